//! exec: parsing and loading ELF images built here (an ELF64 header and
//! program-header builder) and real static riscv64 programs, checking the
//! VMAs, the bss, the break, the whole initial stack and the mm's layout
//! fields; every kind of bad image; a proptest that mutated images never
//! panic `parse`/`load`, and that loading leaks no page.

use std::alloc::{alloc_zeroed, Layout};
use std::ptr::NonNull;

use kernel::errno::{E2BIG, ENOENT, ENOEXEC};
use kernel::exec::auxv::*;
use kernel::exec::{load, parse, ExecArgs, ExecError, Loaded};
use mm::filemap::{AddressSpace, File, MemFile, FMODE_READ};
use mm::mmap::{MmBox, MmStruct, VmFlags};
use mm::uaccess::copy_from_user;
use mm::{Cpu, Mem, MemConfig};
use proptest::prelude::*;

const P: u64 = 4096;
const TOP: u64 = 1 << 47;

// ---------------------------------------------------------------------
// A booted memory manager, leaked for 'static.

fn boot(bytes: usize) -> &'static Mem {
    let layout = Layout::from_size_align(bytes, mm::mem::RAM_ALIGN).unwrap();
    // SAFETY: non-zero size; the RAM is leaked with the Mem.
    let ram = NonNull::new(unsafe { alloc_zeroed(layout) }).unwrap();
    let cfg = MemConfig {
        nr_cpus: 1,
        quiet: true,
        ..MemConfig::default()
    };
    // SAFETY: `ram` is writable, ours, and never freed.
    let mem = unsafe { Mem::boot(ram, bytes, cfg, Box::new(|_| {})) }.expect("boot");
    let mem: &'static Mem = Box::leak(Box::new(mem));
    {
        let cpu = mem.cpu(0).unwrap();
        mm::mmap::init_caches(mem).unwrap();
        mm::fault::init(&cpu).unwrap();
    }
    mem
}

/// Free pages after draining the per-CPU lists and shrinking the caches.
fn settle(mem: &Mem) -> usize {
    for c in mem.caches() {
        mem.kmem_cache_shrink(c);
    }
    mem.nr_free_pages() + mem.nr_pcp_pages()
}

// ---------------------------------------------------------------------
// An ELF64 image builder.

#[derive(Clone, Copy)]
struct Ph {
    ty: u32,
    flags: u32,
    off: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_TLS: u32 = 7;
const PT_GNU_STACK: u32 = 0x6474_e551;
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

fn load_ph(flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
    Ph {
        ty: PT_LOAD,
        flags,
        off,
        vaddr,
        filesz,
        memsz,
        align: P,
    }
}

/// Header + program headers at 64, then `size` bytes of file in all, the
/// bytes past the headers filled with `fill(offset)`.
fn build_elf(e_type: u16, entry: u64, phs: &[Ph], size: usize) -> Vec<u8> {
    let mut b: Vec<u8> = (0..size).map(|i| (i % 251) as u8 | 1).collect();
    let mut h = Vec::new();
    h.extend_from_slice(b"\x7fELF");
    h.extend_from_slice(&[2, 1, 1, 0]);
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&e_type.to_le_bytes());
    h.extend_from_slice(&243u16.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&entry.to_le_bytes());
    h.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    h.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    h.extend_from_slice(&5u32.to_le_bytes()); // e_flags (RVC, double)
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&56u16.to_le_bytes());
    h.extend_from_slice(&(phs.len() as u16).to_le_bytes());
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    assert_eq!(h.len(), 64);
    for p in phs {
        h.extend_from_slice(&p.ty.to_le_bytes());
        h.extend_from_slice(&p.flags.to_le_bytes());
        h.extend_from_slice(&p.off.to_le_bytes());
        h.extend_from_slice(&p.vaddr.to_le_bytes());
        h.extend_from_slice(&p.vaddr.to_le_bytes());
        h.extend_from_slice(&p.filesz.to_le_bytes());
        h.extend_from_slice(&p.memsz.to_le_bytes());
        h.extend_from_slice(&p.align.to_le_bytes());
    }
    if b.len() < h.len() {
        b.resize(h.len(), 0);
    }
    b[..h.len()].copy_from_slice(&h);
    b
}

/// The reference image: text [0x10000, 0x11800) r-x from offset 0, data
/// at 0x13100 (offset 0x2100) with 0x300 file bytes and 0x3000 in
/// memory, TLS inside the data, a non-executable GNU stack. The file is
/// 0x3000 bytes, so the data page's file bytes go on past p_filesz.
fn sample_phs() -> Vec<Ph> {
    vec![
        load_ph(R | X, 0, 0x10000, 0x1800, 0x1800),
        load_ph(R | W, 0x2100, 0x13100, 0x300, 0x3000),
        Ph {
            ty: PT_TLS,
            flags: R,
            off: 0x2100,
            vaddr: 0x13100,
            filesz: 0x10,
            memsz: 0x40,
            align: 8,
        },
        Ph {
            ty: PT_GNU_STACK,
            flags: R | W,
            off: 0,
            vaddr: 0,
            filesz: 0,
            memsz: 0,
            align: 16,
        },
    ]
}

fn sample() -> Vec<u8> {
    build_elf(2, 0x10100, &sample_phs(), 0x3000)
}

// ---------------------------------------------------------------------
// Loading harness.

struct Proc {
    cpu: Cpu<'static>,
    mm: MmBox<'static>,
    space: Box<AddressSpace<'static>>,
}

impl Proc {
    fn new(mem: &'static Mem, bytes: &[u8]) -> Proc {
        let cpu = mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        let space = AddressSpace::new(mem, Box::new(MemFile::new(bytes.to_vec()))).unwrap();
        Proc { cpu, mm, space }
    }

    fn load(&self, bytes: &[u8], args: &ExecArgs<'_>) -> Result<Loaded, ExecError> {
        let image = parse(bytes)?;
        let file = File::open(&self.space, FMODE_READ);
        load(&self.cpu, &self.mm, &image, &file, args, None, None)
    }

    fn read(&self, addr: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        copy_from_user(&self.cpu, &self.mm, &mut b, addr as usize).expect("readable");
        b
    }

    fn word(&self, addr: u64) -> u64 {
        u64::from_le_bytes(self.read(addr, 8).try_into().unwrap())
    }

    fn cstr(&self, addr: u64) -> Vec<u8> {
        let mut v = Vec::new();
        let mut a = addr;
        loop {
            let b = self.read(a, 1)[0];
            if b == 0 {
                return v;
            }
            v.push(b);
            a += 1;
        }
    }

    /// (start, end, flags, pgoff, is_file) of every VMA.
    fn vmas(&mut self) -> Vec<(u64, u64, VmFlags, usize, bool)> {
        self.mm
            .vmas()
            .map(|v| {
                (
                    v.vm_start as u64,
                    v.vm_end as u64,
                    v.vm_flags,
                    v.vm_pgoff,
                    v.vm_file.is_some(),
                )
            })
            .collect()
    }

    fn finish(self) {
        let Proc { cpu, mm, space } = self;
        mm.free(&cpu);
        space.release(&cpu);
        drop(space);
    }
}

fn args<'a>(argv: &'a [&'a [u8]], envp: &'a [&'a [u8]]) -> ExecArgs<'a> {
    ExecArgs {
        argv,
        envp,
        execfn: b"/bin/prog",
        random: *b"0123456789abcdef",
        uid: 1000,
        gid: 100,
    }
}

const RWX: VmFlags = VmFlags::VM_READ
    .union(VmFlags::VM_WRITE)
    .union(VmFlags::VM_EXEC);

/// The auxv as (type, value) pairs up to and including AT_NULL.
fn read_auxv(p: &Proc, at: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    let mut a = at;
    loop {
        let t = p.word(a);
        let val = p.word(a + 8);
        v.push((t, val));
        a += 16;
        if t == AT_NULL {
            return v;
        }
        assert!(v.len() < 100, "auxv not terminated");
    }
}

fn aux(v: &[(u64, u64)], t: u64) -> Option<u64> {
    v.iter().find(|e| e.0 == t).map(|e| e.1)
}

// ---------------------------------------------------------------------
// The reference image, every detail.

#[test]
fn exec_image_vmas_bss_brk() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let mut p = Proc::new(mem, &bytes);
    let l = p
        .load(&bytes, &args(&[b"prog", b"-v"], &[b"HOME=/", b"A=b"]))
        .unwrap();
    assert_eq!(l.entry, 0x10100);
    assert_eq!(l.load_bias, 0);
    assert_eq!(l.brk, 0x17000);
    assert_eq!(l.phdr, 0x10040);
    assert_eq!(l.phnum, 4);
    assert_eq!(l.stack_top, TOP);
    assert!(!l.exec_stack);

    let v = p.vmas();
    assert_eq!(v.len(), 4, "{v:?}");
    // text: file, r-x, offset 0, two pages (0x1800 bytes).
    assert_eq!(
        (v[0].0, v[0].1, v[0].3, v[0].4),
        (0x10000, 0x12000, 0, true)
    );
    assert_eq!(v[0].2 & RWX, VmFlags::VM_READ | VmFlags::VM_EXEC);
    // data: file page 2, rw-.
    assert_eq!(
        (v[1].0, v[1].1, v[1].3, v[1].4),
        (0x13000, 0x14000, 2, true)
    );
    assert_eq!(v[1].2 & RWX, VmFlags::VM_READ | VmFlags::VM_WRITE);
    // bss: anonymous rw- to the page end of 0x13100 + 0x3000.
    assert_eq!((v[2].0, v[2].1, v[2].4), (0x14000, 0x17000, false));
    assert_eq!(v[2].2 & RWX, VmFlags::VM_READ | VmFlags::VM_WRITE);
    // stack: top of user space, grows down, rw-, at least 128 KiB.
    let (s0, s1, sf, _, sfile) = v[3];
    assert_eq!(s1, TOP);
    assert!(!sfile);
    assert!(sf.contains(VmFlags::VM_GROWSDOWN | VmFlags::VM_ACCOUNT));
    assert_eq!(sf & RWX, VmFlags::VM_READ | VmFlags::VM_WRITE);
    assert_eq!(s1 - s0, 128 * 1024 + P);

    // Text and data as in the file.
    assert_eq!(p.read(0x10000, 0x1800), bytes[..0x1800].to_vec());
    assert_eq!(p.read(0x13100, 0x300), bytes[0x2100..0x2400].to_vec());
    // The data page before p_vaddr keeps the file's bytes.
    assert_eq!(p.read(0x13000, 0x100), bytes[0x2000..0x2100].to_vec());
    // The rest of the page after p_filesz is zeroed (the file has
    // non-zero bytes there), and so is the anonymous bss.
    assert!(bytes[0x2400..0x3000].iter().all(|&b| b != 0));
    assert!(p.read(0x13400, 0xc00).iter().all(|&b| b == 0));
    assert!(p.read(0x14000, 0x3000).iter().all(|&b| b == 0));
    // The page cache still has the file's bytes (a private copy was made).
    let mut pg = [0u8; 4096];
    p.space.backing().read_page(2, &mut pg).unwrap();
    assert_eq!(pg[0x400..].to_vec(), bytes[0x2400..0x3000].to_vec());

    // The layout fields.
    {
        let st = p.mm.state();
        assert_eq!((st.start_code, st.end_code), (0x10000, 0x11800));
        assert_eq!((st.start_data, st.end_data), (0x13100, 0x13400));
        assert_eq!((st.start_brk, st.brk), (0x17000, 0x17000));
        assert_eq!(st.start_stack as u64, l.sp);
    }
    // The first brk makes a heap above the bss.
    assert_eq!(p.mm.brk(&p.cpu, 0x19000), 0x19000);
    assert_eq!(p.read(0x18000, 16), vec![0; 16]);
    p.finish();
}

#[test]
fn exec_initial_stack_layout() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let mut p = Proc::new(mem, &bytes);
    let argv: [&[u8]; 3] = [b"prog", b"-v", b""];
    let envp: [&[u8]; 2] = [b"HOME=/", b"PATH=/bin:/usr/bin"];
    let a = args(&argv, &envp);
    let l = p.load(&bytes, &a).unwrap();
    let sp = l.sp;
    assert_eq!(sp % 16, 0);
    assert_eq!(p.word(sp), 3);
    assert_eq!(l.argc, 3);
    assert_eq!(l.argv, sp + 8);
    let mut strs = Vec::new();
    for i in 0..3 {
        let q = p.word(sp + 8 + 8 * i);
        strs.push(q);
        assert_eq!(p.cstr(q), argv[i as usize].to_vec());
    }
    assert_eq!(p.word(sp + 8 * 4), 0);
    let envp_at = sp + 8 * 5;
    assert_eq!(l.envp, envp_at);
    for i in 0..2 {
        let q = p.word(envp_at + 8 * i);
        strs.push(q);
        assert_eq!(p.cstr(q), envp[i as usize].to_vec());
    }
    assert_eq!(p.word(envp_at + 16), 0);
    let auxv_at = envp_at + 24;
    assert_eq!(l.auxv, auxv_at);
    let av = read_auxv(&p, auxv_at);
    let types: Vec<u64> = av.iter().map(|e| e.0).collect();
    assert_eq!(
        types,
        vec![
            AT_L1I_CACHESIZE,
            AT_L1I_CACHEGEOMETRY,
            AT_L1D_CACHESIZE,
            AT_L1D_CACHEGEOMETRY,
            AT_L2_CACHESIZE,
            AT_L2_CACHEGEOMETRY,
            AT_L3_CACHESIZE,
            AT_L3_CACHEGEOMETRY,
            AT_MINSIGSTKSZ,
            AT_HWCAP,
            AT_PAGESZ,
            AT_CLKTCK,
            AT_PHDR,
            AT_PHENT,
            AT_PHNUM,
            AT_BASE,
            AT_FLAGS,
            AT_ENTRY,
            AT_UID,
            AT_EUID,
            AT_GID,
            AT_EGID,
            AT_SECURE,
            AT_RANDOM,
            AT_EXECFN,
            AT_NULL
        ]
    );
    assert_eq!(aux(&av, AT_HWCAP), Some(0x112d));
    assert_eq!(aux(&av, AT_PAGESZ), Some(4096));
    assert_eq!(aux(&av, AT_CLKTCK), Some(100));
    assert_eq!(aux(&av, AT_PHDR), Some(0x10040));
    assert_eq!(aux(&av, AT_PHENT), Some(56));
    assert_eq!(aux(&av, AT_PHNUM), Some(4));
    assert_eq!(aux(&av, AT_BASE), Some(0));
    assert_eq!(aux(&av, AT_FLAGS), Some(0));
    assert_eq!(aux(&av, AT_ENTRY), Some(0x10100));
    assert_eq!(aux(&av, AT_UID), Some(1000));
    assert_eq!(aux(&av, AT_EUID), Some(1000));
    assert_eq!(aux(&av, AT_GID), Some(100));
    assert_eq!(aux(&av, AT_EGID), Some(100));
    assert_eq!(aux(&av, AT_SECURE), Some(0));
    assert_eq!(aux(&av, AT_MINSIGSTKSZ), Some(MINSIGSTKSZ));
    assert_eq!(aux(&av, AT_SYSINFO_EHDR), None);
    // The program headers are where AT_PHDR says.
    assert_eq!(p.read(0x10040, 4 * 56), bytes[64..64 + 4 * 56].to_vec());
    let rnd = aux(&av, AT_RANDOM).unwrap();
    assert_eq!(p.read(rnd, 16), b"0123456789abcdef".to_vec());
    let execfn = aux(&av, AT_EXECFN).unwrap();
    assert_eq!(p.cstr(execfn), b"/bin/prog".to_vec());
    // The path is at the very top, below 8 bytes of zero.
    assert_eq!(execfn + b"/bin/prog\0".len() as u64, TOP - 8);
    assert_eq!(p.word(TOP - 8), 0);
    // Strings in order: argv, envp, execfn, contiguous.
    let mut q = strs[0];
    for (i, s) in argv.iter().chain(envp.iter()).enumerate() {
        assert_eq!(strs[i], q);
        q += s.len() as u64 + 1;
    }
    assert_eq!(q, execfn);
    // The random bytes sit 16-aligned right below the strings.
    assert_eq!(rnd, (strs[0] & !15) - 16);
    // The auxv ends below the random bytes, with less than 16 bytes between.
    let aux_end = auxv_at + 16 * av.len() as u64;
    assert!(aux_end <= rnd && rnd - aux_end < 16);
    let st = p.mm.state();
    assert_eq!((st.arg_start as u64, st.arg_end as u64), (strs[0], strs[3]));
    assert_eq!((st.env_start as u64, st.env_end as u64), (strs[3], execfn));
    assert_eq!(st.start_stack as u64, sp);
    p.finish();
}

#[test]
fn exec_without_arguments_passes_an_empty_argv0() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let p = Proc::new(mem, &bytes);
    let l = p.load(&bytes, &args(&[], &[])).unwrap();
    assert_eq!(p.word(l.sp), 1);
    let a0 = p.word(l.sp + 8);
    assert_eq!(p.cstr(a0), Vec::<u8>::new());
    assert_eq!(p.word(l.sp + 16), 0);
    assert_eq!(p.word(l.sp + 24), 0); // envp terminator
    assert_eq!(l.sp % 16, 0);
    p.finish();
}

#[test]
fn exec_stack_alignment_for_every_count() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let strs: Vec<Vec<u8>> = (0..9).map(|i| vec![b'a'; i * 3 + 1]).collect();
    for na in 0..5 {
        for ne in 0..4 {
            let p = Proc::new(mem, &bytes);
            let argv: Vec<&[u8]> = strs[..na].iter().map(|s| s.as_slice()).collect();
            let envp: Vec<&[u8]> = strs[na..na + ne].iter().map(|s| s.as_slice()).collect();
            let l = p.load(&bytes, &args(&argv, &envp)).unwrap();
            assert_eq!(l.sp % 16, 0, "argc {na} envc {ne}");
            assert_eq!(p.word(l.sp), na.max(1) as u64);
            p.finish();
        }
    }
}

#[test]
fn exec_gnu_stack_x_makes_the_stack_executable() {
    let mem = boot(32 << 20);
    let mut phs = sample_phs();
    phs[3].flags = R | W | X;
    let bytes = build_elf(2, 0x10100, &phs, 0x3000);
    let mut p = Proc::new(mem, &bytes);
    let l = p.load(&bytes, &args(&[b"x"], &[])).unwrap();
    assert!(l.exec_stack);
    let v = p.vmas();
    assert!(v.last().unwrap().2.contains(VmFlags::VM_EXEC));
    p.finish();
    // Without PT_GNU_STACK: riscv's default is a non-executable stack.
    let phs: Vec<Ph> = sample_phs()[..2].to_vec();
    let bytes = build_elf(2, 0x10100, &phs, 0x3000);
    let mut p = Proc::new(mem, &bytes);
    p.load(&bytes, &args(&[b"x"], &[])).unwrap();
    assert!(!p.vmas().last().unwrap().2.contains(VmFlags::VM_EXEC));
    p.finish();
}

#[test]
fn exec_static_pie_bias() {
    let mem = boot(32 << 20);
    let phs = vec![
        load_ph(R | X, 0, 0, 0x1800, 0x1800),
        load_ph(R | W, 0x2100, 0x3100, 0x300, 0x3000),
    ];
    let bytes = build_elf(3, 0x100, &phs, 0x3000);
    let mut p = Proc::new(mem, &bytes);
    let l = p.load(&bytes, &args(&[b"pie"], &[])).unwrap();
    // Placed top-down below mmap_base (STACK_TOP - 128 MiB): the span is
    // 0x7000 bytes.
    let base = mm::mmap::DEFAULT_MMAP_BASE as u64 - 0x7000;
    assert_eq!(l.load_bias, base);
    assert_eq!(l.entry, base + 0x100);
    assert_eq!(l.phdr, base + 0x40);
    assert_eq!(l.brk, base + 0x7000);
    let v = p.vmas();
    assert_eq!((v[0].0, v[0].1), (base, base + 0x2000));
    assert_eq!((v[1].0, v[1].1, v[1].3), (base + 0x3000, base + 0x4000, 2));
    assert_eq!((v[2].0, v[2].1), (base + 0x4000, base + 0x7000));
    assert_eq!(p.read(base, 64), bytes[..64].to_vec());
    let av = read_auxv(&p, l.auxv);
    assert_eq!(aux(&av, AT_ENTRY), Some(base + 0x100));
    assert_eq!(aux(&av, AT_PHDR), Some(base + 0x40));
    assert_eq!(aux(&av, AT_BASE), Some(0));
    let st = p.mm.state();
    assert_eq!(st.start_code as u64, base);
    assert_eq!(st.start_data as u64, base + 0x3100);
    p.finish();
}

#[test]
fn exec_static_pie_large_alignment() {
    let mem = boot(32 << 20);
    // The text asks for 64 KiB alignment (offset and vaddr 0 agree).
    let mut phs = vec![
        load_ph(R | X, 0, 0, 0x1800, 0x1800),
        load_ph(R | W, 0x2100, 0x12100, 0x300, 0x300),
    ];
    phs[0].align = 0x10000;
    let bytes = build_elf(3, 0x100, &phs, 0x3000);
    let p = Proc::new(mem, &bytes);
    let l = p.load(&bytes, &args(&[b"pie"], &[])).unwrap();
    assert_eq!(l.load_bias % 0x10000, 0);
    assert!(l.load_bias + 0x13000 <= mm::mmap::DEFAULT_MMAP_BASE as u64);
    p.finish();
}

#[test]
fn exec_filesz_zero_segment_is_all_anonymous() {
    let mem = boot(32 << 20);
    let phs = vec![
        load_ph(R | X, 0, 0x10000, 0x1000, 0x1000),
        load_ph(R | W, 0, 0x20000, 0, 0x2000),
    ];
    let bytes = build_elf(2, 0x10100, &phs, 0x1000);
    let mut p = Proc::new(mem, &bytes);
    let l = p.load(&bytes, &args(&[b"x"], &[])).unwrap();
    let v = p.vmas();
    assert_eq!((v[1].0, v[1].1, v[1].4), (0x20000, 0x22000, false));
    assert_eq!(p.read(0x20000, 0x2000), vec![0; 0x2000]);
    assert_eq!(l.brk, 0x22000);
    p.finish();
}

#[test]
fn exec_e2big() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let p = Proc::new(mem, &bytes);
    // One string longer than MAX_ARG_STRLEN (32 pages with the NUL).
    let long = vec![b'x'; 32 * 4096];
    let e = p.load(&bytes, &args(&[&long], &[])).unwrap_err();
    assert_eq!(e, ExecError::TooBig);
    assert_eq!(e.errno(), E2BIG);
    // Exactly MAX_ARG_STRLEN with the NUL is fine.
    let ok = vec![b'x'; 32 * 4096 - 1];
    p.load(&bytes, &args(&[&ok], &[])).unwrap();
    p.finish();
    // More than a quarter of the 8 MiB stack limit in all.
    let p = Proc::new(mem, &bytes);
    let chunk = vec![b'y'; 100_000];
    let many: Vec<&[u8]> = (0..21).map(|_| chunk.as_slice()).collect();
    assert_eq!(
        p.load(&bytes, &args(&many, &[])).unwrap_err(),
        ExecError::TooBig
    );
    // The mm was not touched.
    let mut p = p;
    assert!(p.vmas().is_empty());
    p.finish();
}

#[test]
fn exec_large_environment_grows_the_stack() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let p = Proc::new(mem, &bytes);
    let chunk = vec![b'e'; 60_000];
    let envp: Vec<&[u8]> = (0..20).map(|_| chunk.as_slice()).collect();
    let l = p.load(&bytes, &args(&[b"big"], &envp)).unwrap();
    let q = p.word(l.envp + 8 * 19);
    assert_eq!(p.read(q, 10), vec![b'e'; 10]);
    p.finish();
}

// ---------------------------------------------------------------------
// Bad images: each a specific error, never a panic.

fn set_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn exec_bad_images() {
    let good = sample();
    assert_eq!(parse(&[]).unwrap_err(), ExecError::NotElf);
    assert_eq!(
        parse(b"#!/bin/sh\necho hi\n").unwrap_err(),
        ExecError::NotElf
    );
    assert_eq!(parse(&good[..10]).unwrap_err(), ExecError::TruncatedHeader);
    assert_eq!(parse(&good[..40]).unwrap_err(), ExecError::TruncatedHeader);
    let e = parse(&good[..64 + 56 * 2 + 10]).unwrap_err();
    assert_eq!(e, ExecError::TruncatedPhdr(2));
    assert_eq!(
        e.to_string(),
        "truncated ELF: program header 2 past end of file"
    );

    let mut b = good.clone();
    set_u16(&mut b, 18, 62);
    let e = parse(&b).unwrap_err();
    assert_eq!(e, ExecError::WrongMachine(62));
    assert_eq!(
        e.to_string(),
        "ELF for another machine (x86-64), ferrite runs riscv64"
    );
    assert_eq!(e.errno(), ENOEXEC);

    let mut b = good.clone();
    b[4] = 1;
    let e = parse(&b).unwrap_err();
    assert_eq!(e, ExecError::Class32);
    assert_eq!(e.to_string(), "32-bit ELF; ferrite runs ELF64");

    let mut b = good.clone();
    b[5] = 2;
    assert_eq!(parse(&b).unwrap_err(), ExecError::BigEndian);

    let mut b = good.clone();
    set_u16(&mut b, 16, 1);
    let e = parse(&b).unwrap_err();
    assert_eq!(e.to_string(), "not an executable (ET_REL)");

    let mut b = good.clone();
    set_u16(&mut b, 54, 32);
    assert_eq!(parse(&b).unwrap_err(), ExecError::BadPhentsize(32));

    let mut b = good.clone();
    set_u16(&mut b, 56, 0);
    assert_eq!(parse(&b).unwrap_err(), ExecError::BadPhnum(0));

    // phdr table past EOF.
    let mut b = good.clone();
    b[32..40].copy_from_slice(&0x2fd0u64.to_le_bytes());
    assert_eq!(parse(&b).unwrap_err(), ExecError::TruncatedPhdr(0));
    let mut b = good.clone();
    b[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(parse(&b).unwrap_err(), ExecError::TruncatedPhdr(0));

    // filesz > memsz.
    let mut phs = sample_phs();
    phs[1].memsz = 0x200;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert_eq!(
        e,
        ExecError::BadSegment {
            index: 1,
            why: "p_filesz > p_memsz"
        }
    );

    // Overlapping segments.
    let mut phs = sample_phs();
    phs[1].vaddr = 0x11100;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert_eq!(e, ExecError::Overlap { a: 0, b: 1 });

    // Kernel-space vaddr.
    let mut phs = sample_phs();
    phs[1].vaddr = 0xffff_ffc0_0000_0100;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert!(matches!(e, ExecError::BadSegment { index: 1, .. }), "{e:?}");
    // Wrapping vaddr + memsz.
    let mut phs = sample_phs();
    phs[1].vaddr = u64::MAX - 0xeff;
    phs[1].off = 0x2100;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert!(matches!(e, ExecError::BadSegment { index: 1, .. }), "{e:?}");

    // Segment past EOF.
    let mut phs = sample_phs();
    phs[1].filesz = 0x2000;
    phs[1].memsz = 0x3000;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert_eq!(
        e,
        ExecError::BadSegment {
            index: 1,
            why: "p_offset + p_filesz past end of file"
        }
    );

    // Offset and vaddr not congruent.
    let mut phs = sample_phs();
    phs[1].off = 0x2200;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert!(matches!(e, ExecError::BadSegment { index: 1, .. }), "{e:?}");

    // Non-power-of-two alignment.
    let mut phs = sample_phs();
    phs[0].align = 0x3000;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert!(matches!(e, ExecError::BadSegment { index: 0, .. }), "{e:?}");

    // PT_TLS outside every PT_LOAD; bad TLS alignment.
    let mut phs = sample_phs();
    phs[2].vaddr = 0x50000;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert!(matches!(e, ExecError::BadSegment { index: 2, .. }), "{e:?}");
    let mut phs = sample_phs();
    phs[2].align = 12;
    let e = parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err();
    assert!(matches!(e, ExecError::BadSegment { index: 2, .. }), "{e:?}");

    // No PT_LOAD.
    let phs = vec![sample_phs()[3]];
    assert_eq!(
        parse(&build_elf(2, 0x10100, &phs, 0x3000)).unwrap_err(),
        ExecError::NoLoad
    );

    // Page zero.
    let mut phs = sample_phs();
    phs[0].vaddr = 0;
    phs[1].vaddr = 0x3100;
    let e = parse(&build_elf(2, 0x100, &phs, 0x3000)).unwrap_err();
    assert!(matches!(e, ExecError::BadSegment { index: 0, .. }), "{e:?}");

    // Entry in kernel space.
    let e = parse(&build_elf(2, 1 << 63, &sample_phs(), 0x3000)).unwrap_err();
    assert_eq!(e, ExecError::BadEntry(1 << 63));

    // PT_INTERP: dynamically linked.
    let mut phs = sample_phs();
    let interp = b"/lib/ld-linux-riscv64-lp64d.so.1\0";
    phs.insert(
        0,
        Ph {
            ty: PT_INTERP,
            flags: R,
            off: 0x2800,
            vaddr: 0x12800,
            filesz: interp.len() as u64,
            memsz: interp.len() as u64,
            align: 1,
        },
    );
    let mut b = build_elf(2, 0x10100, &phs, 0x3000);
    b[0x2800..0x2800 + interp.len()].copy_from_slice(interp);
    // It parses (tests/exec_dynamic.rs loads such programs); without an
    // interpreter the loader refuses it, leaving the mm alone.
    let image = parse(&b).unwrap();
    assert_eq!(
        image.interp(),
        Some(&b"/lib/ld-linux-riscv64-lp64d.so.1"[..])
    );
    let mem = boot(32 << 20);
    let mut p = Proc::new(mem, &b);
    let e = p.load(&b, &args(&[b"x"], &[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "dynamically linked (needs /lib/ld-linux-riscv64-lp64d.so.1); no interpreter was loaded"
    );
    assert_eq!(e.errno(), ENOENT);
    assert!(p.vmas().is_empty());
    p.finish();
}

#[test]
fn exec_file_shorter_than_image() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let p = Proc::new(mem, &bytes[..0x2000]);
    let image = parse(&bytes).unwrap();
    let file = File::open(&p.space, FMODE_READ);
    let e = load(
        &p.cpu,
        &p.mm,
        &image,
        &file,
        &args(&[b"x"], &[]),
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(e, ExecError::FileChanged);
    p.finish();
}

#[test]
fn exec_segment_in_the_stack_is_refused() {
    let mem = boot(32 << 20);
    let phs = vec![
        load_ph(R | X, 0, 0x10000, 0x1000, 0x1000),
        load_ph(R | W, 0x1000, TOP - 0x10000, 0x100, 0x1000),
    ];
    let bytes = build_elf(2, 0x10100, &phs, 0x2000);
    let p = Proc::new(mem, &bytes);
    let e = p.load(&bytes, &args(&[b"x"], &[])).unwrap_err();
    assert_eq!(e, ExecError::NoStackRoom);
    p.finish();
}

// ---------------------------------------------------------------------
// Real programs.

fn check_real(mem: &'static Mem, name: &str, bytes: &[u8]) {
    let mut p = Proc::new(mem, bytes);
    let image = parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let l = p
        .load(bytes, &args(&[name.as_bytes(), b"arg"], &[b"TERM=dumb"]))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(l.sp % 16, 0);
    // The entry is in an executable mapping, the phdrs are mapped.
    let v = p.vmas();
    assert!(
        v.iter()
            .any(|x| x.0 <= l.entry && l.entry < x.1 && x.2.contains(VmFlags::VM_EXEC)),
        "{name}: entry {:#x} not executable: {v:?}",
        l.entry
    );
    let phoff = u64::from_le_bytes(bytes[32..40].try_into().unwrap()) as usize;
    let n = image.phdrs().len() * 56;
    assert_eq!(
        p.read(l.phdr, n),
        bytes[phoff..phoff + n].to_vec(),
        "{name}"
    );
    // The instruction bytes at the entry are the file's.
    let seg = image
        .loads()
        .iter()
        .find(|s| s.p_vaddr + l.load_bias <= l.entry && l.entry < s.end() + l.load_bias)
        .unwrap();
    let off = (l.entry - l.load_bias - seg.p_vaddr + seg.p_offset) as usize;
    assert_eq!(p.read(l.entry, 4), bytes[off..off + 4].to_vec());
    // The bss reads as zero.
    for s in image.loads() {
        if s.p_memsz > s.p_filesz {
            let a = l.load_bias + s.p_vaddr + s.p_filesz;
            let n = (s.p_memsz - s.p_filesz).min(8192) as usize;
            assert!(p.read(a, n).iter().all(|&b| b == 0), "{name}: bss");
        }
    }
    assert_eq!(p.word(l.sp), 2);
    p.finish();
}

#[test]
fn exec_real_programs() {
    let mem = boot(64 << 20);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../user/build");
    let missing = format!(
        "exec_real_programs: no static programs in {}: build them first with `make -C user` (scripts/user-deps.sh installs the cross compiler)",
        dir.display()
    );
    let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{missing} ({e})"));
    let mut n = 0;
    for e in rd.flatten() {
        // user/build also holds BusyBox's source tree.
        if !e.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        if bytes.get(..4) != Some(b"\x7fELF") {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        match parse(&bytes) {
            // Dynamic programs: tests/exec_dynamic.rs.
            Ok(image) if image.interp().is_some() => continue,
            _ => check_real(mem, &name, &bytes),
        }
        n += 1;
    }
    assert!(n > 0, "{missing}");
    eprintln!("exec_real_programs: {n} programs from {}", dir.display());
}

/// A static glibc program (`-static`) and a freestanding static-pie
/// (`-static-pie` without a C library: Debian's cross toolchain ships no
/// `rcrt1.o`), built with the riscv64 cross compiler (required: the test
/// fails without it).
#[test]
fn exec_compiled_static_and_static_pie() {
    let cc = "riscv64-linux-gnu-gcc";
    let dir = std::env::temp_dir().join(format!("ferrite-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hello = dir.join("hello.c");
    std::fs::write(
        &hello,
        "#include <stdio.h>\nint big[5000];\n__thread int t = 3;\nint main(void){ printf(\"hi %d\\n\", t + big[7]); return 0; }\n",
    )
    .unwrap();
    let pie = dir.join("pie.c");
    std::fs::write(
        &pie,
        "static volatile int data[4] = {1, 2, 3, 4};\nstatic volatile int bss[3000];\nvoid _start(void) { bss[5] = data[1]; for (;;) { register long a7 asm(\"a7\") = 93; register long a0 asm(\"a0\") = bss[5]; asm volatile(\"ecall\" :: \"r\"(a7), \"r\"(a0)); } }\n",
    )
    .unwrap();
    let cases: [(&str, &[&str], &std::path::Path, bool); 2] = [
        ("hello", &["-static", "-O2"], &hello, false),
        (
            "pie",
            &[
                "-O2",
                "-nostdlib",
                "-ffreestanding",
                "-fPIE",
                "-static-pie",
                "-Wl,--no-dynamic-linker",
            ],
            &pie,
            true,
        ),
    ];
    let mem = boot(64 << 20);
    for (name, flags, src, is_pie) in cases {
        let out = dir.join(name);
        let r = std::process::Command::new(cc)
            .args(flags)
            .arg("-o")
            .arg(&out)
            .arg(src)
            .status();
        match r {
            Ok(s) if s.success() => {}
            other => panic!(
                "{cc} {flags:?} for {name} failed ({other:?}): the test needs the riscv64 cross compiler (scripts/user-deps.sh installs it)"
            ),
        }
        let bytes = std::fs::read(&out).unwrap();
        let image = parse(&bytes).unwrap();
        assert_eq!(image.is_pie(), is_pie, "{name}");
        check_real(mem, name, &bytes);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------
// Robustness and leaks.

#[test]
fn exec_leaves_no_pages_behind() {
    let mem = boot(32 << 20);
    let bytes = sample();
    let before = settle(mem);
    for _ in 0..3 {
        let p = Proc::new(mem, &bytes);
        let l = p.load(&bytes, &args(&[b"a", b"b"], &[b"c"])).unwrap();
        // Touch the bss and the heap too.
        let _ = p.read(0x16000, 8);
        p.mm.brk(&p.cpu, l.brk as usize + 0x3000);
        let _ = p.read(l.brk, 8);
        p.finish();
    }
    assert_eq!(settle(mem), before);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn exec_mutated_images_never_panic(
        muts in proptest::collection::vec((0usize..0x200, any::<u8>()), 1..8),
        cut in proptest::option::of(0usize..0x3000),
    ) {
        static MEM: std::sync::OnceLock<&'static Mem> = std::sync::OnceLock::new();
        let mem = *MEM.get_or_init(|| boot(32 << 20));
        let mut b = sample();
        for (at, v) in muts {
            b[at] = v;
        }
        if let Some(c) = cut {
            b.truncate(c);
        }
        if let Ok(image) = parse(&b) {
            let before = settle(mem);
            let p = Proc::new(mem, &b);
            let file = File::open(&p.space, FMODE_READ);
            let _ = load(&p.cpu, &p.mm, &image, &file, &args(&[b"m"], &[b"E=1"]), None, None);
            p.finish();
            prop_assert_eq!(settle(mem), before);
        } else {
            let e = parse(&b).unwrap_err();
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

/// Interesting values for a program-header or header field.
fn field_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(0u64),
        Just(u64::MAX),
        Just(1u64 << 47),
        Just((1u64 << 47) - 0x1000),
        Just(0x1000u64),
        Just(0x2fffu64),
        0u64..0x40000,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    /// Whole fields of the header and program headers set to edge values:
    /// parse never panics, and a load of what parses neither panics nor
    /// leaks.
    #[test]
    fn exec_field_mutations_never_panic(
        sets in proptest::collection::vec((0usize..4, 0usize..8, field_value()), 1..5),
        hdr in proptest::option::of((0usize..8, field_value())),
    ) {
        static MEM: std::sync::OnceLock<&'static Mem> = std::sync::OnceLock::new();
        let mem = *MEM.get_or_init(|| boot(32 << 20));
        let mut b = sample();
        // Phdr fields: type+flags (u32 pair as one u64), then six u64s.
        for (ph, field, v) in sets {
            let at = 64 + ph * 56 + field.min(6) * 8;
            let at = if field == 7 { 64 + ph * 56 + 4 } else { at };
            let n = if field == 7 { 4 } else { 8 };
            b[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
        }
        // Header words: e_entry, e_phoff, ... or the 16-bit fields.
        if let Some((f, v)) = hdr {
            match f {
                0 => b[24..32].copy_from_slice(&v.to_le_bytes()),
                1 => b[32..40].copy_from_slice(&v.to_le_bytes()),
                2 => b[16..18].copy_from_slice(&v.to_le_bytes()[..2]),
                3 => b[54..56].copy_from_slice(&v.to_le_bytes()[..2]),
                4 => b[56..58].copy_from_slice(&v.to_le_bytes()[..2]),
                _ => b[24..32].copy_from_slice(&(v & 0x3ffff).to_le_bytes()),
            }
        }
        match parse(&b) {
            Ok(image) => {
                let before = settle(mem);
                let p = Proc::new(mem, &b);
                let file = File::open(&p.space, FMODE_READ);
                let r = load(&p.cpu, &p.mm, &image, &file, &args(&[b"m"], &[b"E=1"]), None, None);
                if let Ok(l) = r {
                    prop_assert_eq!(l.sp % 16, 0);
                }
                p.finish();
                prop_assert_eq!(settle(mem), before);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
