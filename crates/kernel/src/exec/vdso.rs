//! The vDSO: a small ELF shared object the kernel maps into every new
//! program (Linux's arch/riscv/kernel/vdso.c `__setup_additional_pages`,
//! `vdso_init`, and the image arch/riscv/kernel/vdso/ builds: its linker
//! script's `LINUX_4.15` version and the `rt_sigreturn.S` trampoline).
//!
//! ferrite writes the image itself, here, at boot: [`build_image`] lays
//! out an ELF64 `ET_DYN` for riscv64 linked at address 0 with one
//! read+exec `PT_LOAD` covering the whole page and a `PT_DYNAMIC`; a
//! SysV `.hash`, `.dynsym`, `.dynstr` (soname `linux-vdso.so.1`), the
//! version tables `.gnu.version`/`.gnu.version_d` (the base version and
//! `LINUX_4.15`, every exported symbol in `LINUX_4.15`, as Linux exports
//! them), `.dynamic`, `.text` and section headers, so that glibc's
//! `setup_vdso`/`dl_vdso_vsym` (and tools such as `readelf`) read it as
//! they read Linux's. The exported functions:
//!
//! - `__vdso_rt_sigreturn`: `li a7, 139; ecall` (uncompressed, the two
//!   words libgcc's unwinder recognises as a signal frame); signal
//!   delivery sets `ra` to it ([`Vdso::sigreturn_addr`]), as Linux riscv
//!   returns from every handler through the vDSO;
//! - `__vdso_gettimeofday`, `__vdso_clock_gettime`, `__vdso_clock_getres`,
//!   `__vdso_getcpu`: `li a7, NR; ecall; ret`, i.e. Linux's vDSO fallback
//!   path, taken always: the system call's raw result (`-errno` on
//!   failure) is the function's, which is what glibc 2.36 expects of a
//!   vDSO function (it looks all four up through `AT_SYSINFO_EHDR` in
//!   static and dynamic programs alike and calls them instead of `ecall`).
//!
//! Mapping ([`Vdso::map`], `__setup_additional_pages`): one unmapped area
//! for `[vvar]` (2 pages, as with `CONFIG_TIME_NS`) and `[vdso]` above it,
//! placed top-down by `get_unmapped_area` after the program and its
//! interpreter, so below the interpreter as on Linux without
//! randomisation. Both are private mappings of two page-cache objects
//! the kernel keeps for its whole life (one per machine, shared by every
//! process, as Linux's `vdso_info` pages are), whose names /proc/PID/maps
//! shows as Linux shows the special mappings (`00000000 00:00 0 [vdso]`).
//!
//! Where ferrite differs from Linux:
//! - the time functions make the system call (there is no kernel-updated
//!   data page to read the clock from in user space), so they are as fast
//!   as the `ecall` and no faster;
//! - `[vvar]` is two zero pages (nothing reads them), and
//!   `__vdso_flush_icache`/`__vdso_riscv_hwprobe` are not exported (glibc
//!   then makes the system calls);
//! - the areas are private file mappings rather than `VM_PFNMAP`/special
//!   mappings: `mprotect(PROT_WRITE)` on them succeeds (copy-on-write)
//!   where Linux refuses it for `[vvar]`, smaps shows no `de`
//!   (`VM_DONTEXPAND`) flag, and the pages count as page cache.

use std::sync::Mutex;

use mm::filemap::{AddressSpace, File, FileBacking, FileIdentity, FilePtr, FMODE_READ};
use mm::mmap::{MmStruct, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ};
use mm::page::PAGE_SIZE;
use mm::percpu::Cpu;
use mm::Mem;

use super::elf::{EM_RISCV, ET_DYN, PF_R, PF_X, PT_LOAD};
use super::error::ExecError;
use crate::errno::{Errno, EIO, ENOMEM};

/// The version every symbol is exported in (Linux riscv's vDSO).
pub const VDSO_VERSION: &str = "LINUX_4.15";
/// The vDSO's soname.
pub const VDSO_SONAME: &str = "linux-vdso.so.1";
/// Pages of `[vvar]` below `[vdso]` (`VVAR_NR_PAGES` with time
/// namespaces).
pub const VVAR_PAGES: usize = 2;

/// `PT_DYNAMIC`.
const PT_DYNAMIC: u32 = 2;
/// `EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE`, as the programs it serves.
const E_FLAGS: u32 = 0x5;

/// `a7 <- nr` (`addi a7, zero, nr`), uncompressed.
const fn li_a7(nr: u32) -> u32 {
    (nr << 20) | (17 << 7) | 0x13
}
/// `ecall`.
const ECALL: u32 = 0x0000_0073;
/// `ret` (`jalr zero, 0(ra)`).
const RET: u32 = 0x0000_8067;

/// One exported function: its name, the system call it makes, and
/// whether it returns (the signal trampoline does not).
struct Stub {
    name: &'static str,
    nr: u32,
    returns: bool,
}

/// The exported functions, in symbol-table order.
const STUBS: [Stub; 5] = [
    Stub {
        name: "__vdso_rt_sigreturn",
        nr: 139,
        returns: false,
    },
    Stub {
        name: "__vdso_gettimeofday",
        nr: 169,
        returns: true,
    },
    Stub {
        name: "__vdso_clock_gettime",
        nr: 113,
        returns: true,
    },
    Stub {
        name: "__vdso_clock_getres",
        nr: 114,
        returns: true,
    },
    Stub {
        name: "__vdso_getcpu",
        nr: 168,
        returns: true,
    },
];

/// The System V ELF symbol hash (`elf_hash` of the gABI): what `.hash`
/// buckets by and what `vd_hash` holds.
pub fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

/// A little-endian byte buffer that sections are appended to.
#[derive(Default)]
struct Out(Vec<u8>);

impl Out {
    fn align(&mut self, a: usize) -> usize {
        while self.0.len() % a != 0 {
            self.0.push(0);
        }
        self.0.len()
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn at(&self) -> usize {
        self.0.len()
    }
}

/// A string table under construction.
#[derive(Default)]
struct StrTab(Vec<u8>);

impl StrTab {
    fn new() -> StrTab {
        StrTab(vec![0])
    }
    fn add(&mut self, s: &str) -> u32 {
        let at = self.0.len() as u32;
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        at
    }
}

/// One section header's fields.
struct Shdr {
    name: u32,
    ty: u32,
    flags: u64,
    off: usize,
    size: usize,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

// Section header types and flags, dynamic tags, symbol bits.
const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;
const SHT_HASH: u32 = 5;
const SHT_DYNAMIC: u32 = 6;
const SHT_DYNSYM: u32 = 11;
const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;
const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
const DT_NULL: u64 = 0;
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_SYMENT: u64 = 11;
const DT_SONAME: u64 = 14;
const DT_VERSYM: u64 = 0x6fff_fff0;
const DT_VERDEF: u64 = 0x6fff_fffc;
const DT_VERDEFNUM: u64 = 0x6fff_fffd;
const STB_GLOBAL: u8 = 1;
const STT_FUNC: u8 = 2;
const VER_FLG_BASE: u16 = 1;
/// `sizeof(Elf64_Sym)`.
const SYM_SIZE: usize = 24;
/// Number of `.hash` buckets (any number works; a few keep chains short).
const NBUCKET: usize = 3;
/// Section indices (fixed by the order below).
const SHN_TEXT: u16 = 7;

/// The built image and where its functions are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VdsoImage {
    /// The ELF file, page-aligned in length.
    pub bytes: Vec<u8>,
    /// Each exported function: name and offset in the image.
    pub symbols: Vec<(&'static str, u64)>,
    /// Offset of `__vdso_rt_sigreturn`.
    pub sigreturn: u64,
}

/// Lay out the vDSO (see the module docs). Deterministic: the same bytes
/// every time.
pub fn build_image() -> VdsoImage {
    let nsym = STUBS.len() + 1;
    let mut dynstr = StrTab::new();
    let soname = dynstr.add(VDSO_SONAME);
    let version = dynstr.add(VDSO_VERSION);
    let names: Vec<u32> = STUBS.iter().map(|s| dynstr.add(s.name)).collect();
    let mut shstr = StrTab::new();
    let sh_names: Vec<u32> = [
        ".hash",
        ".dynsym",
        ".dynstr",
        ".gnu.version",
        ".gnu.version_d",
        ".dynamic",
        ".text",
        ".shstrtab",
    ]
    .iter()
    .map(|n| shstr.add(n))
    .collect();

    let mut o = Out::default();
    // The ELF header and two program headers are filled in last.
    o.0.resize(64 + 2 * 56, 0);

    // .text first in thought (its offsets go into the symbols), placed
    // after the tables: compute the tables' sizes to know where it goes.
    let hash_off = o.align(8);
    let hash_size = 4 * (2 + NBUCKET + nsym);
    let dynsym_off = (hash_off + hash_size).next_multiple_of(8);
    let dynstr_off = dynsym_off + SYM_SIZE * nsym;
    let versym_off = (dynstr_off + dynstr.0.len()).next_multiple_of(2);
    let verdef_off = (versym_off + 2 * nsym).next_multiple_of(8);
    let verdef_size = 2 * (20 + 8);
    let dynamic_off = (verdef_off + verdef_size).next_multiple_of(8);
    let dyn_entries = 10;
    let text_off = (dynamic_off + 16 * dyn_entries).next_multiple_of(16);
    let mut text = Vec::new();
    let mut symbols = Vec::new();
    let mut sizes = Vec::new();
    for s in &STUBS {
        let at = text_off + text.len();
        let mut code = vec![li_a7(s.nr), ECALL];
        if s.returns {
            code.push(RET);
        }
        for w in &code {
            text.extend_from_slice(&w.to_le_bytes());
        }
        symbols.push((s.name, at as u64));
        sizes.push(4 * code.len() as u64);
    }

    // .hash: nbucket, nchain, buckets, chains (symbol 0 is the null one).
    let mut buckets = [0u32; NBUCKET];
    let mut chains = vec![0u32; nsym];
    for (i, s) in STUBS.iter().enumerate().rev() {
        let idx = (i + 1) as u32;
        let b = elf_hash(s.name.as_bytes()) as usize % NBUCKET;
        chains[idx as usize] = buckets[b];
        buckets[b] = idx;
    }
    o.u32(NBUCKET as u32);
    o.u32(nsym as u32);
    for b in buckets {
        o.u32(b);
    }
    for c in &chains {
        o.u32(*c);
    }
    // .dynsym
    assert_eq!(o.align(8), dynsym_off);
    o.0.resize(o.at() + SYM_SIZE, 0);
    for (i, &(_, value)) in symbols.iter().enumerate() {
        o.u32(names[i]);
        o.0.push((STB_GLOBAL << 4) | STT_FUNC);
        o.0.push(0); // STV_DEFAULT
        o.u16(SHN_TEXT);
        o.u64(value);
        o.u64(sizes[i]);
    }
    // .dynstr
    assert_eq!(o.at(), dynstr_off);
    o.0.extend_from_slice(&dynstr.0);
    // .gnu.version: 0 (local) for the null symbol, 2 (LINUX_4.15) else.
    assert_eq!(o.align(2), versym_off);
    o.u16(0);
    for _ in &STUBS {
        o.u16(2);
    }
    // .gnu.version_d: the base version (the soname), then LINUX_4.15.
    assert_eq!(o.align(8), verdef_off);
    for (ndx, (flags, name, text)) in [
        (VER_FLG_BASE, soname, VDSO_SONAME),
        (0, version, VDSO_VERSION),
    ]
    .into_iter()
    .enumerate()
    {
        o.u16(1); // vd_version
        o.u16(flags);
        o.u16(ndx as u16 + 1);
        o.u16(1); // vd_cnt
        o.u32(elf_hash(text.as_bytes()));
        o.u32(20); // vd_aux
        o.u32(if ndx == 0 { 28 } else { 0 }); // vd_next
        o.u32(name); // vda_name
        o.u32(0); // vda_next
    }
    // .dynamic
    assert_eq!(o.align(8), dynamic_off);
    let dynamic = [
        (DT_HASH, hash_off as u64),
        (DT_STRTAB, dynstr_off as u64),
        (DT_SYMTAB, dynsym_off as u64),
        (DT_STRSZ, dynstr.0.len() as u64),
        (DT_SYMENT, SYM_SIZE as u64),
        (DT_SONAME, u64::from(soname)),
        (DT_VERSYM, versym_off as u64),
        (DT_VERDEF, verdef_off as u64),
        (DT_VERDEFNUM, 2),
        (DT_NULL, 0),
    ];
    assert_eq!(dynamic.len(), dyn_entries);
    for (t, v) in dynamic {
        o.u64(t);
        o.u64(v);
    }
    // .text
    assert_eq!(o.align(16), text_off);
    o.0.extend_from_slice(&text);
    let load_end = o.at();
    // .shstrtab and the section headers (not loaded, but in the page).
    let shstr_off = o.at();
    o.0.extend_from_slice(&shstr.0);
    let shoff = o.align(8);
    let shdrs = [
        Shdr {
            name: 0,
            ty: 0,
            flags: 0,
            off: 0,
            size: 0,
            link: 0,
            info: 0,
            align: 0,
            entsize: 0,
        },
        Shdr {
            name: sh_names[0],
            ty: SHT_HASH,
            flags: SHF_ALLOC,
            off: hash_off,
            size: hash_size,
            link: 2,
            info: 0,
            align: 8,
            entsize: 4,
        },
        Shdr {
            name: sh_names[1],
            ty: SHT_DYNSYM,
            flags: SHF_ALLOC,
            off: dynsym_off,
            size: SYM_SIZE * nsym,
            link: 3,
            info: 1,
            align: 8,
            entsize: SYM_SIZE as u64,
        },
        Shdr {
            name: sh_names[2],
            ty: SHT_STRTAB,
            flags: SHF_ALLOC,
            off: dynstr_off,
            size: dynstr.0.len(),
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        },
        Shdr {
            name: sh_names[3],
            ty: SHT_GNU_VERSYM,
            flags: SHF_ALLOC,
            off: versym_off,
            size: 2 * nsym,
            link: 2,
            info: 0,
            align: 2,
            entsize: 2,
        },
        Shdr {
            name: sh_names[4],
            ty: SHT_GNU_VERDEF,
            flags: SHF_ALLOC,
            off: verdef_off,
            size: verdef_size,
            link: 3,
            info: 2,
            align: 8,
            entsize: 0,
        },
        Shdr {
            name: sh_names[5],
            ty: SHT_DYNAMIC,
            flags: SHF_ALLOC,
            off: dynamic_off,
            size: 16 * dyn_entries,
            link: 3,
            info: 0,
            align: 8,
            entsize: 16,
        },
        Shdr {
            name: sh_names[6],
            ty: SHT_PROGBITS,
            flags: SHF_ALLOC | SHF_EXECINSTR,
            off: text_off,
            size: text.len(),
            link: 0,
            info: 0,
            align: 16,
            entsize: 0,
        },
        Shdr {
            name: sh_names[7],
            ty: SHT_STRTAB,
            flags: 0,
            off: shstr_off,
            size: shstr.0.len(),
            link: 0,
            info: 0,
            align: 1,
            entsize: 0,
        },
    ];
    for s in &shdrs {
        o.u32(s.name);
        o.u32(s.ty);
        o.u64(s.flags);
        // Loaded at 0: an allocated section's address is its offset.
        o.u64(if s.flags & SHF_ALLOC != 0 {
            s.off as u64
        } else {
            0
        });
        o.u64(s.off as u64);
        o.u64(s.size as u64);
        o.u32(s.link);
        o.u32(s.info);
        o.u64(s.align);
        o.u64(s.entsize);
    }
    let file_len = o.at();
    let mut b = o.0;

    // The ELF header.
    let mut h = Out::default();
    h.0.extend_from_slice(b"\x7fELF");
    h.0.extend_from_slice(&[2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    h.u16(ET_DYN);
    h.u16(EM_RISCV);
    h.u32(1);
    h.u64(0); // e_entry
    h.u64(64); // e_phoff
    h.u64(shoff as u64);
    h.u32(E_FLAGS);
    h.u16(64);
    h.u16(56);
    h.u16(2);
    h.u16(64);
    h.u16(shdrs.len() as u16);
    h.u16(shdrs.len() as u16 - 1); // e_shstrndx
                                   // PT_LOAD: the whole file, read+exec, at 0.
    h.u32(PT_LOAD);
    h.u32(PF_R | PF_X);
    for v in [0, 0, 0, file_len as u64, file_len as u64, PAGE_SIZE as u64] {
        h.u64(v);
    }
    // PT_DYNAMIC.
    h.u32(PT_DYNAMIC);
    h.u32(PF_R);
    let d = dynamic_off as u64;
    let n = 16 * dyn_entries as u64;
    for v in [d, d, d, n, n, 8] {
        h.u64(v);
    }
    b[..h.0.len()].copy_from_slice(&h.0);
    debug_assert!(load_end <= file_len);
    b.resize(file_len.next_multiple_of(PAGE_SIZE), 0);
    let sigreturn = symbols[0].1;
    VdsoImage {
        bytes: b,
        symbols,
        sigreturn,
    }
}

/// The contents of a special mapping: fixed bytes, named as /proc shows
/// them.
struct SpecialPages {
    name: &'static str,
    data: Vec<u8>,
}

impl FileBacking for SpecialPages {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_page(&self, index: u64, buf: &mut [u8; PAGE_SIZE]) -> Result<(), i32> {
        buf.fill(0);
        let off = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_mul(PAGE_SIZE));
        if let Some(src) = off.and_then(|o| self.data.get(o..)) {
            let n = src.len().min(PAGE_SIZE);
            buf[..n].copy_from_slice(&src[..n]);
        }
        Ok(())
    }

    fn write_page(&self, _index: u64, _buf: &[u8; PAGE_SIZE]) -> Result<(), i32> {
        // Only ever mapped privately: its page-cache pages are never
        // dirtied, so never written back.
        Err(EIO)
    }

    fn identity(&self) -> Option<FileIdentity> {
        Some(FileIdentity {
            path: self.name.into(),
            ..FileIdentity::default()
        })
    }
}

/// The machine's vDSO: the `[vdso]` and `[vvar]` page-cache objects, kept
/// for the kernel's life.
pub struct Vdso {
    text: &'static AddressSpace<'static>,
    vvar: &'static AddressSpace<'static>,
    text_len: usize,
    sigreturn: u64,
}

/// One vDSO per booted machine (tests boot several), never freed.
static VDSOS: Mutex<Vec<(usize, &'static Vdso)>> = Mutex::new(Vec::new());

impl Vdso {
    /// The vDSO of `mem`'s machine, made on first use (`vdso_init`).
    pub fn get(mem: &'static Mem) -> Result<&'static Vdso, Errno> {
        let key = mem as *const Mem as usize;
        let mut all = VDSOS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, v)) = all.iter().find(|(k, _)| *k == key) {
            return Ok(v);
        }
        let image = build_image();
        let text_len = image.bytes.len();
        let text = AddressSpace::new_counted(
            mem,
            Box::new(SpecialPages {
                name: "[vdso]",
                data: image.bytes,
            }),
        )
        .map_err(|e| if e == 0 { ENOMEM } else { e })?;
        let vvar = AddressSpace::new_counted(
            mem,
            Box::new(SpecialPages {
                name: "[vvar]",
                data: vec![0; VVAR_PAGES * PAGE_SIZE],
            }),
        )
        .map_err(|e| if e == 0 { ENOMEM } else { e })?;
        // Both references are the kernel's own, never put.
        let v: &'static Vdso = Box::leak(Box::new(Vdso {
            text,
            vvar,
            text_len,
            sigreturn: image.sigreturn,
        }));
        all.push((key, v));
        Ok(v)
    }

    /// Bytes of `[vdso]`.
    pub fn len(&self) -> usize {
        self.text_len
    }

    /// Never: the image has at least its headers.
    pub fn is_empty(&self) -> bool {
        self.text_len == 0
    }

    /// Offset of `__vdso_rt_sigreturn` from the vDSO's start.
    pub fn sigreturn_offset(&self) -> u64 {
        self.sigreturn
    }

    /// `__setup_additional_pages`: map `[vvar]` and `[vdso]` into `mm`
    /// where `mmap` puts them; the vDSO's address (`AT_SYSINFO_EHDR`).
    pub fn map(&self, cpu: &Cpu<'static>, mm: &MmStruct<'static>) -> Result<u64, ExecError> {
        let vvar_len = VVAR_PAGES * PAGE_SIZE;
        let total = vvar_len + self.text_len;
        let base = mm
            .mmap_write_lock(cpu)
            .get_unmapped_area(0, total, 0)
            .map_err(|e| ExecError::mm("map vdso", e))?;
        let vvar = File::open(self.vvar, FMODE_READ);
        mm.do_mmap_file(
            cpu,
            base,
            vvar_len,
            PROT_READ,
            MAP_PRIVATE | MAP_FIXED,
            Some(&vvar),
            0,
        )
        .map_err(|e| ExecError::mm("map vvar", e))?;
        let text = File::open(self.text, FMODE_READ);
        let at = base + vvar_len;
        mm.do_mmap_file(
            cpu,
            at,
            self.text_len,
            PROT_READ | PROT_EXEC,
            MAP_PRIVATE | MAP_FIXED,
            Some(&text),
            0,
        )
        .map_err(|e| ExecError::mm("map vdso", e))?;
        Ok(at as u64)
    }

    /// Where `mm` has the vDSO mapped (the start of the area mapping its
    /// first page), if it has: Linux's `mm->context.vdso`, found from the
    /// VMAs, so it follows `mremap` and `fork` and is gone after `munmap`.
    pub fn base(&self, cpu: &Cpu<'_>, mm: &MmStruct<'_>) -> Option<u64> {
        let me = FilePtr::of(self.text);
        let st = mm.mmap_read_lock(cpu);
        let at = st
            .vmas()
            .find(|v| v.vm_file == Some(me) && v.vm_pgoff == 0)
            .map(|v| v.vm_start as u64);
        at
    }

    /// The return address signal delivery gives a handler (`ra`):
    /// `__vdso_rt_sigreturn` in `mm`, if the vDSO is mapped there
    /// (`VDSO_SYMBOL(mm->context.vdso, rt_sigreturn)`).
    pub fn sigreturn_addr(&self, cpu: &Cpu<'_>, mm: &MmStruct<'_>) -> Option<u64> {
        self.base(cpu, mm).map(|b| b + self.sigreturn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::elf::endian::LittleEndian;
    use ::elf::ElfBytes;

    #[test]
    fn hash_of_the_version_is_glibcs() {
        // glibc's VDSO_HASH for riscv's "LINUX_4.15".
        assert_eq!(elf_hash(b"LINUX_4.15"), 182_943_605);
        assert_eq!(elf_hash(b""), 0);
    }

    #[test]
    fn trampoline_words() {
        let img = build_image();
        let at = img.sigreturn as usize;
        let w = |o: usize| u32::from_le_bytes(img.bytes[o..o + 4].try_into().unwrap());
        assert_eq!((w(at), w(at + 4)), (0x08b0_0893, 0x0000_0073));
        assert_eq!(img.bytes.len(), PAGE_SIZE);
        assert_eq!(build_image(), img);
    }

    #[test]
    fn the_image_parses_as_a_shared_object() {
        let img = build_image();
        let f = ElfBytes::<LittleEndian>::minimal_parse(&img.bytes).unwrap();
        assert_eq!(f.ehdr.e_type, ET_DYN);
        assert_eq!(f.ehdr.e_machine, EM_RISCV);
        let (syms, strs) = f.dynamic_symbol_table().unwrap().unwrap();
        let names: Vec<(String, u64)> = syms
            .iter()
            .skip(1)
            .map(|s| {
                (
                    strs.get(s.st_name as usize).unwrap().to_string(),
                    s.st_value,
                )
            })
            .collect();
        let want: Vec<(String, u64)> = img
            .symbols
            .iter()
            .map(|(n, v)| (n.to_string(), *v))
            .collect();
        assert_eq!(names, want);
        // Every symbol is in LINUX_4.15.
        let vt = f.symbol_version_table().unwrap().unwrap();
        for i in 1..=STUBS.len() {
            let def = vt.get_definition(i).unwrap().unwrap();
            let n: Vec<&str> = def.names.map(|n| n.unwrap()).collect();
            assert_eq!(n, vec![VDSO_VERSION]);
        }
        // The hash table finds each name.
        let hash = f.section_header_by_name(".hash").unwrap().unwrap();
        let h = &img.bytes[hash.sh_offset as usize..];
        let word = |i: usize| u32::from_le_bytes(h[4 * i..4 * i + 4].try_into().unwrap());
        let nb = word(0) as usize;
        for (name, value) in &img.symbols {
            let mut i = word(2 + elf_hash(name.as_bytes()) as usize % nb) as usize;
            let mut found = None;
            while i != 0 {
                let s = syms.get(i).unwrap();
                if strs.get(s.st_name as usize).unwrap() == *name {
                    found = Some(s.st_value);
                    break;
                }
                i = word(2 + nb + i) as usize;
            }
            assert_eq!(found, Some(*value), "{name}");
        }
    }
}
