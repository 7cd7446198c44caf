//! exec of dynamically linked programs: the `PT_INTERP` checks, the
//! interpreter opened through the process's root (`open_interp`: ENOENT,
//! EACCES, EIO, ELIBBAD), the placement of a PIE at `ELF_ET_DYN_BASE`, of
//! the interpreter and the vDSO where `mmap` puts them, the auxiliary
//! vector (`AT_BASE`, `AT_ENTRY`, `AT_PHDR`, `AT_SYSINFO_EHDR`), the vDSO
//! image (read back from the mapping, and by the cross `readelf`), a real
//! glibc program with Debian's `ld-linux-riscv64-lp64d.so.1`, no page
//! left behind, and mutated interpreters that never panic.

use std::alloc::{alloc_zeroed, Layout};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use kernel::errno::{EACCES, EIO, ELIBBAD, ENOENT, ENOEXEC, ENOTDIR};
use kernel::exec::auxv::*;
use kernel::exec::vdso::{build_image, VVAR_PAGES};
use kernel::exec::{
    load, open_interp, parse, parse_interp, ExecArgs, ExecError, Interp, Loaded, Vdso,
    ELF_ET_DYN_BASE,
};
use kernel::fs::{Fs, HostFs};
use mm::filemap::{AddressSpace, File, MemFile, FMODE_READ};
use mm::mmap::{MmBox, MmStruct, VmFlags, DEFAULT_MMAP_BASE};
use mm::uaccess::copy_from_user;
use mm::{Cpu, Mem, MemConfig};
use proptest::prelude::*;

mod common;

const P: u64 = 4096;

// ---------------------------------------------------------------------
// Machines.

/// A machine of its own (for counting pages), leaked for 'static.
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
    let cpu = mem.cpu(0).unwrap();
    mm::mmap::init_caches(mem).unwrap();
    mm::fault::init(&cpu).unwrap();
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
// ELF images.

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
const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

fn ph(ty: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
    Ph {
        ty,
        flags,
        off,
        vaddr,
        filesz,
        memsz,
        align: if ty == PT_LOAD { P } else { 1 },
    }
}

/// An ELF64 riscv64 file of `size` bytes: header, program headers at 64,
/// the rest filled with a pattern (never zero).
fn elf(e_type: u16, entry: u64, phs: &[Ph], size: usize) -> Vec<u8> {
    let mut b: Vec<u8> = (0..size).map(|i| (i % 251) as u8 | 1).collect();
    let mut h = Vec::new();
    h.extend_from_slice(b"\x7fELF");
    h.extend_from_slice(&[2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    h.extend_from_slice(&e_type.to_le_bytes());
    h.extend_from_slice(&243u16.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&entry.to_le_bytes());
    h.extend_from_slice(&64u64.to_le_bytes());
    h.extend_from_slice(&0u64.to_le_bytes());
    h.extend_from_slice(&5u32.to_le_bytes());
    h.extend_from_slice(&64u16.to_le_bytes());
    h.extend_from_slice(&56u16.to_le_bytes());
    h.extend_from_slice(&(phs.len() as u16).to_le_bytes());
    h.extend_from_slice(&[64, 0, 0, 0, 0, 0]);
    for p in phs {
        h.extend_from_slice(&p.ty.to_le_bytes());
        h.extend_from_slice(&p.flags.to_le_bytes());
        for v in [p.off, p.vaddr, p.vaddr, p.filesz, p.memsz, p.align] {
            h.extend_from_slice(&v.to_le_bytes());
        }
    }
    b[..h.len()].copy_from_slice(&h);
    b
}

const INTERP_PATH: &[u8] = b"/lib/ld-test.so.1";

/// A PIE linked at 0 asking for `interp`: text [0, 0x1800) r-x, data at
/// 0x3100 (0x300 file bytes, 0x3000 in memory), the path at 0x2800.
fn pie(interp: &[u8]) -> Vec<u8> {
    let n = interp.len() as u64 + 1;
    let phs = [
        ph(PT_INTERP, R, 0x2800, 0x2800, n, n),
        ph(PT_LOAD, R | X, 0, 0, 0x1800, 0x1800),
        ph(PT_LOAD, R | W, 0x2100, 0x3100, 0x300, 0x3000),
    ];
    let mut b = elf(3, 0x120, &phs, 0x3000);
    b[0x2800..0x2800 + interp.len()].copy_from_slice(interp);
    b[0x2800 + interp.len()] = 0;
    b
}

/// An interpreter linked at 0: text [0, 0x2400) r-x, data at 0x3800
/// (0x100 file bytes, 0x2000 in memory), entry 0x200.
fn loader() -> Vec<u8> {
    let phs = [
        ph(PT_LOAD, R | X, 0, 0, 0x2400, 0x2400),
        ph(PT_LOAD, R | W, 0x2800, 0x3800, 0x100, 0x2000),
    ];
    elf(3, 0x200, &phs, 0x2900)
}

/// The span `loader()` takes: its page-aligned end.
const LOADER_SPAN: u64 = 0x6000;

// ---------------------------------------------------------------------
// A process: an mm, and files in memory or in a root directory.

fn args<'a>(argv: &'a [&'a [u8]]) -> ExecArgs<'a> {
    ExecArgs {
        argv,
        envp: &[b"A=1"],
        execfn: b"/bin/prog",
        random: [9; 16],
        uid: 1000,
        gid: 100,
    }
}

struct Space(Box<AddressSpace<'static>>);

impl Space {
    fn new(mem: &'static Mem, bytes: &[u8]) -> Space {
        Space(AddressSpace::new(mem, Box::new(MemFile::new(bytes.to_vec()))).unwrap())
    }
    fn file(&self) -> File<'_, 'static> {
        File::open(&self.0, FMODE_READ)
    }
    fn release(self, cpu: &Cpu<'_>) {
        self.0.release(cpu);
    }
}

fn read(cpu: &Cpu<'_>, mm: &MmStruct<'_>, addr: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    copy_from_user(cpu, mm, &mut b, addr as usize).expect("readable");
    b
}

fn word(cpu: &Cpu<'_>, mm: &MmStruct<'_>, addr: u64) -> u64 {
    u64::from_le_bytes(read(cpu, mm, addr, 8).try_into().unwrap())
}

fn auxv(cpu: &Cpu<'_>, mm: &MmStruct<'_>, l: &Loaded) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    let mut a = l.auxv;
    loop {
        let e = (word(cpu, mm, a), word(cpu, mm, a + 8));
        v.push(e);
        a += 16;
        if e.0 == AT_NULL || v.len() > 64 {
            return v;
        }
    }
}

fn aux(v: &[(u64, u64)], t: u64) -> Option<u64> {
    v.iter().find(|e| e.0 == t).map(|e| e.1)
}

/// A loaded process whose files are in memory.
struct Proc {
    mm: MmBox<'static>,
    spaces: Vec<Space>,
}

impl Proc {
    /// Free the mm, then the files its VMAs mapped.
    fn finish(self, cpu: &Cpu<'static>) {
        self.mm.free(cpu);
        for s in self.spaces {
            s.release(cpu);
        }
    }
}

/// Load `prog` with the interpreter `interp` (both in memory) and the
/// machine's vDSO into a fresh mm.
fn load_mem(
    mem: &'static Mem,
    cpu: &Cpu<'static>,
    prog: &[u8],
    interp: &[u8],
) -> (Proc, Result<Loaded, ExecError>) {
    let mm = MmStruct::new(cpu).unwrap();
    let image = parse(prog).unwrap();
    let iimage = parse_interp(INTERP_PATH, interp).unwrap();
    let (ps, is) = (Space::new(mem, prog), Space::new(mem, interp));
    let vdso = Vdso::get(mem).unwrap();
    let r = load(
        cpu,
        &mm,
        &image,
        &ps.file(),
        &args(&[b"prog", b"x"]),
        Some(Interp {
            image: &iimage,
            file: is.file(),
        }),
        Some(vdso),
    );
    (
        Proc {
            mm,
            spaces: vec![ps, is],
        },
        r,
    )
}

// ---------------------------------------------------------------------
// Placement and the auxiliary vector.

#[test]
fn dyn_pie_interpreter_and_vdso_placement() {
    let mem = boot(32 << 20);
    let cpu = mem.cpu(0).unwrap();
    let prog = pie(INTERP_PATH);
    let (mut p, l) = load_mem(mem, &cpu, &prog, &loader());
    let l = l.unwrap();
    let mm = &mut p.mm;
    // The PIE at ELF_ET_DYN_BASE (2/3 of 1 << 47), page-aligned.
    assert_eq!(ELF_ET_DYN_BASE, 0x5555_5555_5554);
    let bias = 0x5555_5555_5000;
    assert_eq!(l.load_bias, bias);
    assert_eq!(l.prog_entry, bias + 0x120);
    assert_eq!(l.phdr, bias + 0x40);
    // The interpreter right below mmap_base, the vDSO right below it, and
    // [vvar] below the vDSO.
    let ibase = DEFAULT_MMAP_BASE as u64 - LOADER_SPAN;
    assert_eq!(l.interp_base, ibase);
    assert_eq!(l.entry, ibase + 0x200);
    let vdso = Vdso::get(mem).unwrap();
    assert_eq!(l.vdso, ibase - vdso.len() as u64);
    assert_eq!(l.vdso_sigreturn, l.vdso + vdso.sigreturn_offset());
    assert_eq!(vdso.sigreturn_addr(&cpu, mm), Some(l.vdso_sigreturn));
    // The break follows the program's bss, not the interpreter's.
    assert_eq!(l.brk, bias + 0x7000);

    let av = auxv(&cpu, mm, &l);
    assert_eq!(av[0], (AT_SYSINFO_EHDR, l.vdso));
    assert_eq!(aux(&av, AT_BASE), Some(ibase));
    assert_eq!(aux(&av, AT_ENTRY), Some(bias + 0x120));
    assert_eq!(aux(&av, AT_PHDR), Some(bias + 0x40));
    assert_eq!(aux(&av, AT_PHNUM), Some(3));
    assert_eq!(av.len(), NR_ENTRIES);

    // The program headers are where AT_PHDR says; the interpreter's text
    // is the file's; its bss is zero.
    assert_eq!(read(&cpu, mm, bias + 0x40, 3 * 56), prog[64..64 + 3 * 56]);
    let ld = loader();
    assert_eq!(read(&cpu, mm, ibase, 0x2400), ld[..0x2400]);
    assert!(read(&cpu, mm, ibase + 0x3900, 0x1f00)
        .iter()
        .all(|&b| b == 0));
    // The vDSO is the image ferrite builds; the trampoline is there.
    let img = build_image();
    assert_eq!(read(&cpu, mm, l.vdso, img.bytes.len()), img.bytes);
    assert_eq!(
        read(&cpu, mm, l.vdso_sigreturn, 8),
        [0x93, 0x08, 0xb0, 0x08, 0x73, 0, 0, 0]
    );
    // [vvar] reads as zero.
    let vvar = l.vdso - (VVAR_PAGES as u64) * P;
    assert!(read(&cpu, mm, vvar, VVAR_PAGES * 4096)
        .iter()
        .all(|&b| b == 0));

    // /proc/PID/maps: the vDSO areas named as Linux names them.
    let maps = mm::proc::pid::proc_pid_maps(mm);
    let line = |start: u64| {
        maps.lines()
            .find(|l| l.starts_with(&format!("{start:x}-")))
            .unwrap_or_else(|| panic!("no area at {start:#x}:\n{maps}"))
            .to_string()
    };
    let v = line(l.vdso);
    assert!(v.ends_with(" [vdso]"), "{v}");
    assert!(
        v.contains(&format!(
            "{:x}-{:x} r-xp 00000000 00:00 0 ",
            l.vdso,
            l.vdso + 4096
        )),
        "{v}"
    );
    let vv = line(vvar);
    assert!(
        vv.contains(&format!("{vvar:x}-{:x} r--p 00000000 00:00 0 ", l.vdso)),
        "{vv}"
    );
    assert!(vv.ends_with(" [vvar]"), "{vv}");
    // Areas: program text, data, bss; interpreter text, data, bss; vvar,
    // vdso; stack.
    let areas: Vec<(u64, u64, VmFlags)> = mm
        .vmas()
        .map(|v| (v.vm_start as u64, v.vm_end as u64, v.vm_flags))
        .collect();
    assert_eq!(areas.len(), 9, "{maps}");
    assert_eq!(areas[0].0, bias);
    assert_eq!(areas[3], (vvar, l.vdso, areas[3].2));
    assert_eq!(areas[4].0, l.vdso);
    assert!(areas[4].2.contains(VmFlags::VM_READ | VmFlags::VM_EXEC));
    assert!(!areas[4].2.contains(VmFlags::VM_WRITE));
    assert_eq!(areas[5].0, ibase);

    // Unmapping the vDSO: no trampoline any more.
    mm.do_munmap(&cpu, l.vdso as usize, 4096).unwrap();
    assert_eq!(vdso.sigreturn_addr(&cpu, mm), None);
    p.finish(&cpu);
}

#[test]
fn dyn_et_exec_program_and_interpreter() {
    let mem = boot(32 << 20);
    let cpu = mem.cpu(0).unwrap();
    let n = INTERP_PATH.len() as u64 + 1;
    let phs = [
        ph(PT_INTERP, R, 0x1800, 0x11800, n, n),
        ph(PT_LOAD, R | X, 0, 0x10000, 0x1900, 0x1900),
    ];
    let mut prog = elf(2, 0x10100, &phs, 0x1900);
    prog[0x1800..0x1800 + INTERP_PATH.len()].copy_from_slice(INTERP_PATH);
    prog[0x1800 + INTERP_PATH.len()] = 0;
    // An ET_EXEC interpreter goes where it is linked (AT_BASE 0).
    let iphs = [ph(PT_LOAD, R | X, 0, 0x4000_0000, 0x1000, 0x1000)];
    let interp = elf(2, 0x4000_0080, &iphs, 0x1000);
    let (p, l) = load_mem(mem, &cpu, &prog, &interp);
    let l = l.unwrap();
    let mm = &p.mm;
    assert_eq!((l.load_bias, l.interp_base), (0, 0));
    assert_eq!((l.entry, l.prog_entry), (0x4000_0080, 0x10100));
    let av = auxv(&cpu, mm, &l);
    assert_eq!(aux(&av, AT_BASE), Some(0));
    assert_eq!(aux(&av, AT_ENTRY), Some(0x10100));
    // The vDSO goes top-down below mmap_base (nothing else is there).
    let vdso = Vdso::get(mem).unwrap();
    assert_eq!(l.vdso, DEFAULT_MMAP_BASE as u64 - vdso.len() as u64);
    p.finish(&cpu);
}

#[test]
fn dyn_static_program_gets_the_vdso_and_no_base() {
    let mem = boot(32 << 20);
    let cpu = mem.cpu(0).unwrap();
    let phs = [ph(PT_LOAD, R | X, 0, 0x10000, 0x1000, 0x1000)];
    let prog = elf(2, 0x10100, &phs, 0x1000);
    let mm = MmStruct::new(&cpu).unwrap();
    let image = parse(&prog).unwrap();
    assert_eq!(image.interp(), None);
    let s = Space::new(mem, &prog);
    let vdso = Vdso::get(mem).unwrap();
    // An interpreter passed for a static program is not used.
    let iimage = parse_interp(b"/x", &loader()).unwrap();
    let is = Space::new(mem, &loader());
    let l = load(
        &cpu,
        &mm,
        &image,
        &s.file(),
        &args(&[b"s"]),
        Some(Interp {
            image: &iimage,
            file: is.file(),
        }),
        Some(vdso),
    )
    .unwrap();
    assert_eq!((l.entry, l.interp_base), (0x10100, 0));
    let av = auxv(&cpu, &mm, &l);
    assert_eq!(av[0], (AT_SYSINFO_EHDR, l.vdso));
    assert_eq!(aux(&av, AT_BASE), Some(0));
    assert_eq!(l.vdso, DEFAULT_MMAP_BASE as u64 - vdso.len() as u64);
    // The same vDSO object for the machine, every time.
    assert!(std::ptr::eq(vdso, Vdso::get(mem).unwrap()));
    mm.free(&cpu);
    s.release(&cpu);
    is.release(&cpu);
}

// ---------------------------------------------------------------------
// PT_INTERP as Linux reads it.

#[test]
fn dyn_pt_interp_checks() {
    let with = |off: u64, n: u64, fill: &[u8]| {
        let phs = [
            ph(PT_INTERP, R, off, off, n, n),
            ph(PT_LOAD, R | X, 0, 0x10000, 0x1000, 0x1000),
        ];
        let mut b = elf(2, 0x10100, &phs, 0x2000);
        let o = off as usize;
        if o < b.len() {
            let end = (o + fill.len()).min(b.len());
            b[o..end].copy_from_slice(&fill[..end - o]);
        }
        parse(&b)
    };
    // The path up to its first NUL; the last byte must be NUL.
    assert_eq!(
        with(0x1800, 8, b"/a\0junk\0").unwrap().interp(),
        Some(&b"/a"[..])
    );
    assert_eq!(with(0x1800, 2, b"x\0").unwrap().interp(), Some(&b"x"[..]));
    // An empty path parses (opening it is ENOENT).
    assert_eq!(with(0x1800, 2, b"\0\0").unwrap().interp(), Some(&b""[..]));
    for (n, fill) in [(1u64, &b"\0"[..]), (4097, &[0u8; 4097][..])] {
        let e = with(0x100, n, fill).unwrap_err();
        assert_eq!(e.errno(), ENOEXEC, "{e}");
    }
    let e = with(0x1800, 4, b"/abc").unwrap_err();
    assert_eq!(e.errno(), ENOEXEC);
    assert!(e.to_string().contains("NUL"), "{e}");
    // PATH_MAX exactly is fine.
    let mut long = vec![b'a'; 4095];
    long.push(0);
    let phs = [
        ph(PT_INTERP, R, 0x1000, 0x1000, 4096, 4096),
        ph(PT_LOAD, R | X, 0, 0x10000, 0x1000, 0x1000),
    ];
    let mut b = elf(2, 0x10100, &phs, 0x2000);
    b[0x1000..0x2000].copy_from_slice(&long);
    assert_eq!(parse(&b).unwrap().interp().unwrap().len(), 4095);
    // Past the end of the file: EIO (the read comes up short).
    let e = with(0x1ff0, 0x20, b"/lib/x").unwrap_err();
    assert_eq!(e, ExecError::InterpPastEof);
    assert_eq!(e.errno(), EIO);
    let e = with(u64::MAX - 4, 8, b"").unwrap_err();
    assert_eq!(e.errno(), EIO);
    // The first PT_INTERP counts.
    let phs = [
        ph(PT_INTERP, R, 0x1800, 0x1800, 3, 3),
        ph(PT_INTERP, R, 0x1900, 0x1900, 1, 1),
        ph(PT_LOAD, R | X, 0, 0x10000, 0x1000, 0x1000),
    ];
    let mut b = elf(2, 0x10100, &phs, 0x2000);
    b[0x1800..0x1803].copy_from_slice(b"/1\0");
    assert_eq!(parse(&b).unwrap().interp(), Some(&b"/1"[..]));
}

// ---------------------------------------------------------------------
// Opening the interpreter through the root.

fn put_file(root: &Path, rel: &str, bytes: &[u8], mode: u32) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn dyn_interpreter_errors() {
    let t = common::setup();
    let root = t.dir.path();
    let open = |p: &[u8]| open_interp(&t.cpu, &t.fs, p).map(|i| i.put(&t.cpu));
    // Missing: ENOENT, and the message names the path.
    let e = open(b"/lib/ld-linux-riscv64-lp64d.so.1").unwrap_err();
    assert_eq!(e.errno(), ENOENT);
    assert_eq!(
        e.to_string(),
        "dynamically linked (needs /lib/ld-linux-riscv64-lp64d.so.1): No such file or directory in the root (--root)"
    );
    assert_eq!(open(b"").unwrap_err().errno(), ENOENT);
    // Not ELF (a whole header's worth of text): ELIBBAD.
    put_file(root, "lib/text", &[b'#'; 100], 0o755);
    let e = open(b"/lib/text").unwrap_err();
    assert_eq!(e.errno(), ELIBBAD);
    assert_eq!(e.to_string(), "bad interpreter /lib/text: not an ELF file");
    // Shorter than an ELF header: EIO, as Linux's header read.
    put_file(root, "lib/short", b"#!/bin/sh\n", 0o755);
    assert_eq!(open(b"/lib/short").unwrap_err().errno(), EIO);
    put_file(root, "lib/empty", b"", 0o755);
    assert_eq!(open(b"/lib/empty").unwrap_err().errno(), EIO);
    // Another machine, 32-bit, bad program headers: ELIBBAD.
    let mut other = loader();
    other[18] = 62;
    put_file(root, "lib/x86", &other, 0o755);
    let e = open(b"/lib/x86").unwrap_err();
    assert_eq!(e.errno(), ELIBBAD);
    assert!(e.to_string().contains("x86-64"), "{e}");
    let mut c32 = loader();
    c32[4] = 1;
    put_file(root, "lib/c32", &c32, 0o755);
    assert_eq!(open(b"/lib/c32").unwrap_err().errno(), ELIBBAD);
    let mut phent = loader();
    phent[54] = 32;
    put_file(root, "lib/phent", &phent, 0o755);
    assert_eq!(open(b"/lib/phent").unwrap_err().errno(), ELIBBAD);
    // Not executable, a directory, a path through a file: as execve.
    put_file(root, "lib/noexec", &loader(), 0o644);
    assert_eq!(open(b"/lib/noexec").unwrap_err().errno(), EACCES);
    assert_eq!(open(b"/lib").unwrap_err().errno(), EACCES);
    assert_eq!(open(b"/lib/text/x").unwrap_err().errno(), ENOTDIR);
    // An interpreter with its own PT_INTERP (even a bad one) is fine:
    // Linux never reads it.
    let n = 1;
    let phs = [
        ph(PT_INTERP, R, 0x1800, 0x1800, n, n),
        ph(PT_LOAD, R | X, 0, 0, 0x1000, 0x1000),
    ];
    put_file(root, "lib/ld2", &elf(3, 0x10, &phs, 0x1900), 0o755);
    let i = open_interp(&t.cpu, &t.fs, b"/lib/ld2").unwrap();
    assert_eq!(i.image.interp(), None);
    i.put(&t.cpu);
    // A relative path is looked up from the working directory (/).
    put_file(root, "lib/ld-test.so.1", &loader(), 0o755);
    open(b"lib/ld-test.so.1").unwrap();
    open(INTERP_PATH).unwrap();
}

/// The whole path through the root: open the program and the interpreter
/// as `execve` does and load both; then again and again with no page
/// left behind.
#[test]
fn dyn_load_through_the_root_leaks_nothing() {
    let mem = boot(48 << 20);
    let dir = tempfile::tempdir().unwrap();
    put_file(dir.path(), "bin/prog", &pie(INTERP_PATH), 0o755);
    put_file(dir.path(), "lib/ld-test.so.1", &loader(), 0o755);
    let host = Arc::new(HostFs::new(dir.path(), mem).unwrap());
    let fs = Fs::new(host, Arc::new(common::NoProc)).unwrap();
    let vdso = Vdso::get(mem).unwrap();
    // The CPU is claimed per run: `settle` drains every CPU's lists and
    // waits for a claimed one.
    let run = || {
        let cpu = mem.cpu(0).unwrap();
        let prog = fs.open_exec(b"/bin/prog").unwrap();
        let image = kernel::exec::parse_file(&prog.elf(&cpu)).unwrap();
        let interp = open_interp(&cpu, &fs, image.interp().unwrap()).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        let l = load(
            &cpu,
            &mm,
            &image,
            &prog.mmap.file(),
            &args(&[b"prog"]),
            Some(interp.as_interp()),
            Some(vdso),
        )
        .unwrap();
        interp.put(&cpu);
        prog.mmap.put(&cpu);
        // Touch everything: the vDSO, both texts, both bss, the stack.
        assert_eq!(read(&cpu, &mm, l.vdso, 4), b"\x7fELF");
        assert_eq!(read(&cpu, &mm, l.interp_base, 4), b"\x7fELF");
        assert_eq!(read(&cpu, &mm, l.load_bias, 4), b"\x7fELF");
        assert_eq!(read(&cpu, &mm, l.load_bias + 0x5000, 8), [0; 8]);
        assert_eq!(read(&cpu, &mm, l.interp_base + 0x5000, 8), [0; 8]);
        assert_eq!(word(&cpu, &mm, l.sp), 1);
        let maps = mm::proc::pid::proc_pid_maps(&mm);
        assert!(maps.contains(" /lib/ld-test.so.1\n"), "{maps}");
        assert!(maps.contains(" /bin/prog\n"), "{maps}");
        mm.free(&cpu);
    };
    // The first run creates what stays (the vDSO's page, caches).
    run();
    let before = settle(mem);
    for _ in 0..3 {
        run();
    }
    assert_eq!(settle(mem), before);
}

// ---------------------------------------------------------------------
// A real glibc program and Debian's dynamic loader.

const SYSROOT: &str = "/usr/riscv64-linux-gnu/lib";
const LD_SO: &str = "ld-linux-riscv64-lp64d.so.1";

#[test]
fn dyn_real_glibc_program_and_ld_so() {
    let cc = "riscv64-linux-gnu-gcc";
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("hello.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint main(void){ puts(\"hi\"); return 0; }\n",
    )
    .unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("lib")).unwrap();
    let out = root.join("bin/hello");
    let ok = std::process::Command::new(cc)
        .args(["-O2", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{cc} failed: the test needs the riscv64 cross compiler and libc6-riscv64-cross (scripts/user-deps.sh)"
    );
    let ld = std::fs::read(Path::new(SYSROOT).join(LD_SO))
        .unwrap_or_else(|e| panic!("{SYSROOT}/{LD_SO}: {e} (libc6-riscv64-cross)"));
    put_file(&root, &format!("lib/{LD_SO}"), &ld, 0o755);

    let mem = boot(64 << 20);
    let cpu = mem.cpu(0).unwrap();
    let host = Arc::new(HostFs::new(&root, mem).unwrap());
    let fs = Fs::new(host, Arc::new(common::NoProc)).unwrap();
    let prog = fs.open_exec(b"/bin/hello").unwrap();
    let image = kernel::exec::parse_file(&prog.elf(&cpu)).unwrap();
    assert!(image.is_pie());
    let path = format!("/lib/{LD_SO}");
    assert_eq!(image.interp(), Some(path.as_bytes()));
    let interp = open_interp(&cpu, &fs, image.interp().unwrap()).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    let vdso = Vdso::get(mem).unwrap();
    let l = load(
        &cpu,
        &mm,
        &image,
        &prog.mmap.file(),
        &args(&[b"hello"]),
        Some(interp.as_interp()),
        Some(vdso),
    )
    .unwrap();
    let ispan = interp
        .image
        .loads()
        .last()
        .map(|s| (s.end() + P - 1) & !(P - 1))
        .unwrap();
    interp.put(&cpu);
    prog.mmap.put(&cpu);
    assert_eq!(l.load_bias, 0x5555_5555_5000);
    assert_eq!(l.interp_base, DEFAULT_MMAP_BASE as u64 - ispan);
    // The first instruction is ld.so's entry, inside its mapped text.
    let e_entry = u64::from_le_bytes(ld[24..32].try_into().unwrap());
    assert_eq!(l.entry, l.interp_base + e_entry);
    assert_eq!(
        read(&cpu, &mm, l.entry, 4),
        ld[e_entry as usize..e_entry as usize + 4]
    );
    let maps = mm::proc::pid::proc_pid_maps(&mm);
    assert!(maps.contains(&format!(" /lib/{LD_SO}\n")), "{maps}");
    assert!(maps.contains(" /bin/hello\n"), "{maps}");
    assert!(maps.contains(" [vdso]\n"), "{maps}");
    mm.free(&cpu);
}

// ---------------------------------------------------------------------
// The vDSO as the cross binutils see it.

#[test]
fn dyn_vdso_image_by_readelf() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("vdso.so");
    std::fs::write(&f, build_image().bytes).unwrap();
    let out = std::process::Command::new("riscv64-linux-gnu-readelf")
        .args(["-W", "-h", "-l", "-S", "-d", "--dyn-syms", "-V"])
        .arg(&f)
        .output()
        .expect("riscv64-linux-gnu-readelf (binutils-riscv64-linux-gnu)");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.is_empty(), "{err}\n{text}");
    assert!(text.contains("DYN (Shared object file)"), "{text}");
    assert!(text.contains("RISC-V"), "{text}");
    assert!(text.contains("Library soname: [linux-vdso.so.1]"), "{text}");
    for f in [
        "__vdso_rt_sigreturn",
        "__vdso_gettimeofday",
        "__vdso_clock_gettime",
        "__vdso_clock_getres",
        "__vdso_getcpu",
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains("FUNC    GLOBAL DEFAULT")
                    && l.contains(&format!("{f}@@LINUX_4.15"))),
            "{f}:\n{text}"
        );
    }
    assert!(text.contains("Name: LINUX_4.15"), "{text}");
    assert!(text.contains("Flags: BASE"), "{text}");
}

// ---------------------------------------------------------------------
// Robustness.

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Mutated interpreters: `parse_interp` never panics; what it accepts
    /// loads (or fails) without panicking or leaking.
    #[test]
    fn dyn_mutated_interpreters_never_panic(
        muts in proptest::collection::vec((0usize..0x100, any::<u8>()), 1..8),
        cut in proptest::option::of(0usize..0x2900),
    ) {
        static MEM: std::sync::OnceLock<&'static Mem> = std::sync::OnceLock::new();
        let mem = *MEM.get_or_init(|| {
            // One load first: what stays (the vDSO's page) is there
            // before any count.
            let m = boot(48 << 20);
            let cpu = m.cpu(0).unwrap();
            let (p, l) = load_mem(m, &cpu, &pie(INTERP_PATH), &loader());
            assert_eq!(read(&cpu, &p.mm, l.unwrap().vdso, 4), b"\x7fELF");
            p.finish(&cpu);
            m
        });
        let mut b = loader();
        for (at, v) in muts {
            b[at] = v;
        }
        if let Some(c) = cut {
            b.truncate(c);
        }
        match parse_interp(INTERP_PATH, &b) {
            Ok(iimage) => {
                let prog = pie(INTERP_PATH);
                let image = parse(&prog).unwrap();
                let before = settle(mem);
                let cpu = mem.cpu(0).unwrap();
                let ps = Space::new(mem, &prog);
                let is = Space::new(mem, &b);
                let mm = MmStruct::new(&cpu).unwrap();
                let r = load(
                    &cpu, &mm, &image, &ps.file(), &args(&[b"m"]),
                    Some(Interp { image: &iimage, file: is.file() }),
                    Some(Vdso::get(mem).unwrap()),
                );
                if let Ok(l) = r {
                    prop_assert_eq!(l.sp % 16, 0);
                    let _ = read(&cpu, &mm, l.vdso, 16);
                }
                mm.free(&cpu);
                ps.release(&cpu);
                is.release(&cpu);
                drop(cpu);
                prop_assert_eq!(settle(mem), before);
            }
            Err(e) => {
                let bad_interp = matches!(e, ExecError::BadInterp { .. });
                prop_assert!(bad_interp);
                prop_assert!([ELIBBAD, EIO].contains(&e.errno()), "{}", e);
            }
        }
    }
}
