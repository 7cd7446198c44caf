//! Reading and validating an ELF64 executable (the checks at the top of
//! Linux's fs/binfmt_elf.c `load_elf_binary`, `load_elf_phdrs`,
//! `elf_check_arch` for riscv, and the per-segment checks of its
//! `PT_LOAD` loop), over the `elf` crate's header and program-header
//! parsers.
//!
//! Accepted: ELF64, little endian, `EV_CURRENT`, `EM_RISCV`, `ET_EXEC` or
//! `ET_DYN` (a static-pie, a PIE or a dynamic loader), `e_phentsize` 56, 1 to
//! 1170 program headers (Linux's 64 KiB table limit), at least one
//! `PT_LOAD`. Every `PT_LOAD` must lie in the file (`p_offset + p_filesz`),
//! have `p_filesz <= p_memsz`, `p_offset` and `p_vaddr` congruent modulo
//! the page size (needed to map it) and modulo `p_align`, a power-of-two
//! `p_align`, and fit in user space; the `PT_LOAD`s must be in ascending
//! address order without overlapping (bytes; two segments may share a
//! page, as linkers emit). `PT_TLS` must have a power-of-two alignment and
//! lie inside a `PT_LOAD`: static glibc and musl set up the thread pointer
//! themselves from the program headers (found through `AT_PHDR`), so the
//! kernel has nothing else to do for it. The first `PT_INTERP` names the
//! interpreter ([`ElfImage::interp`]) as Linux reads it: `p_filesz` from 2
//! to `PATH_MAX` and the last byte NUL, else `ENOEXEC`; a path the file
//! does not hold is `EIO` (Linux's short `elf_read`); the path is the
//! bytes up to the first NUL, as `open_exec` sees the C string (an
//! interpreter's own `PT_INTERP` is not read, as Linux never reads it).
//! `PT_GNU_STACK`'s `PF_X` makes the stack executable; without it the
//! riscv default is a non-executable stack (`elf_read_implies_exec` is 0
//! and `VM_DATA_DEFAULT_FLAGS` has no `VM_EXEC` on riscv).
//!
//! Where ferrite is stricter than Linux: Linux accepts unordered or
//! overlapping segments, non-congruent `p_align` and segments reaching past
//! the end of the file (pages past it fault with SIGBUS); ferrite refuses
//! them with a message, since no sane linker emits them.

use ::elf::endian::LittleEndian;
use ::elf::file::{Class, FileHeader};
use ::elf::segment::{ProgramHeader, SegmentTable};

use super::error::ExecError;
use mm::pgtable::TASK_SIZE;

/// `ELFMAG`.
const ELFMAG: [u8; 4] = *b"\x7fELF";
/// `EI_NIDENT`.
const EI_NIDENT: usize = 16;
/// `sizeof(Elf64_Ehdr)`.
const EHDR_SIZE: usize = 64;
/// `sizeof(Elf64_Phdr)`.
pub const PHDR_SIZE: usize = 56;
/// Linux's limit on the program-header table (`load_elf_phdrs`).
const MAX_PHDR_TABLE: usize = 65536;
/// The page size segments are mapped with (`ELF_MIN_ALIGN`).
pub const ELF_PAGE: u64 = 4096;
/// Longest interpreter path shown in a message.
pub(crate) const MAX_INTERP_SHOWN: usize = 256;
/// `PATH_MAX`: the longest `PT_INTERP` Linux reads.
pub const PATH_MAX: u64 = 4096;

/// `ELFCLASS32`.
const ELFCLASS32: u8 = 1;
/// `ELFCLASS64`.
const ELFCLASS64: u8 = 2;
/// `ELFDATA2LSB`.
const ELFDATA2LSB: u8 = 1;
/// `ELFDATA2MSB`.
const ELFDATA2MSB: u8 = 2;
/// `EV_CURRENT`.
const EV_CURRENT: u32 = 1;
/// `EM_RISCV`.
pub const EM_RISCV: u16 = 243;
/// `ET_EXEC`.
pub const ET_EXEC: u16 = 2;
/// `ET_DYN`.
pub const ET_DYN: u16 = 3;

/// `PT_LOAD`.
pub const PT_LOAD: u32 = 1;
/// `PT_INTERP`.
pub const PT_INTERP: u32 = 3;
/// `PT_TLS`.
pub const PT_TLS: u32 = 7;
/// `PT_GNU_STACK`.
pub const PT_GNU_STACK: u32 = 0x6474_e551;

/// `PF_X`.
pub const PF_X: u32 = 1;
/// `PF_W`.
pub const PF_W: u32 = 2;
/// `PF_R`.
pub const PF_R: u32 = 4;

/// One program header, as read from the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags` (`PF_R`, `PF_W`, `PF_X`).
    pub p_flags: u32,
    /// `p_offset`.
    pub p_offset: u64,
    /// `p_vaddr` (before the load bias).
    pub p_vaddr: u64,
    /// `p_filesz`.
    pub p_filesz: u64,
    /// `p_memsz`.
    pub p_memsz: u64,
    /// `p_align`.
    pub p_align: u64,
}

impl From<ProgramHeader> for Segment {
    fn from(p: ProgramHeader) -> Self {
        Segment {
            p_type: p.p_type,
            p_flags: p.p_flags,
            p_offset: p.p_offset,
            p_vaddr: p.p_vaddr,
            p_filesz: p.p_filesz,
            p_memsz: p.p_memsz,
            p_align: p.p_align,
        }
    }
}

impl Segment {
    /// `p_vaddr + p_memsz` (checked by [`parse`] not to overflow).
    pub fn end(&self) -> u64 {
        self.p_vaddr.saturating_add(self.p_memsz)
    }
}

/// A parsed, validated executable: what [`super::load()`] needs of the
/// file's headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage {
    pub(crate) e_type: u16,
    pub(crate) entry: u64,
    pub(crate) phnum: u16,
    /// Every program header, in file order.
    pub(crate) phdrs: Vec<Segment>,
    /// The `PT_LOAD`s, in file (= address) order.
    pub(crate) loads: Vec<Segment>,
    /// `PT_GNU_STACK` with `PF_X`.
    pub(crate) exec_stack: bool,
    /// The `PT_TLS` segment, if any.
    pub(crate) tls: Option<Segment>,
    /// Where the program headers are in memory before the bias (the
    /// `PT_LOAD` whose file range holds `e_phoff`).
    pub(crate) phdr_vaddr: Option<u64>,
    /// The least file size the headers need.
    pub(crate) min_file_size: u64,
    /// The largest power-of-two `p_align` of the `PT_LOAD`s.
    pub(crate) max_align: u64,
    /// The first `PT_INTERP`'s path, up to its first NUL.
    pub(crate) interp: Option<Vec<u8>>,
}

impl ElfImage {
    /// `e_entry` (before the load bias).
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// Whether this is a static-pie (`ET_DYN`), loaded at a bias.
    pub fn is_pie(&self) -> bool {
        self.e_type == ET_DYN
    }

    /// Every program header in file order.
    pub fn phdrs(&self) -> &[Segment] {
        &self.phdrs
    }

    /// The `PT_LOAD` segments in address order.
    pub fn loads(&self) -> &[Segment] {
        &self.loads
    }

    /// The `PT_TLS` segment, if any.
    pub fn tls(&self) -> Option<&Segment> {
        self.tls.as_ref()
    }

    /// Whether `PT_GNU_STACK` asks for an executable stack.
    pub fn exec_stack(&self) -> bool {
        self.exec_stack
    }

    /// The interpreter (`PT_INTERP`) the program asks for: the path to
    /// open (up to its first NUL; it may be empty or relative, as the
    /// file says), or None for a static program.
    pub fn interp(&self) -> Option<&[u8]> {
        self.interp.as_deref()
    }

    /// The interpreter's path for messages (lossy UTF-8, at most
    /// 256 bytes), or "" for a static program.
    pub fn interp_name(&self) -> String {
        self.interp.as_deref().map_or_else(String::new, shown)
    }
}

/// A path from a file, for a message: at most [`MAX_INTERP_SHOWN`]
/// bytes, lossy UTF-8 (the message escapes it when printed).
pub(crate) fn shown(raw: &[u8]) -> String {
    let raw = &raw[..raw.len().min(MAX_INTERP_SHOWN)];
    if raw.is_empty() {
        String::from("an interpreter")
    } else {
        String::from_utf8_lossy(raw).into_owned()
    }
}

fn bad(index: usize, why: &'static str) -> ExecError {
    ExecError::BadSegment { index, why }
}

/// Check the identification bytes; `Ok` means ELF64 little-endian current.
fn check_ident(bytes: &[u8]) -> Result<(), ExecError> {
    if bytes.get(..4) != Some(&ELFMAG[..]) {
        return Err(ExecError::NotElf);
    }
    let ident = bytes.get(..EI_NIDENT).ok_or(ExecError::TruncatedHeader)?;
    match ident[4] {
        ELFCLASS64 => {}
        ELFCLASS32 => return Err(ExecError::Class32),
        c => return Err(ExecError::BadClass(c)),
    }
    match ident[5] {
        ELFDATA2LSB => {}
        ELFDATA2MSB => return Err(ExecError::BigEndian),
        d => return Err(ExecError::BadEndian(d)),
    }
    if u32::from(ident[6]) != EV_CURRENT {
        return Err(ExecError::BadVersion(u32::from(ident[6])));
    }
    if bytes.len() < EHDR_SIZE {
        return Err(ExecError::TruncatedHeader);
    }
    Ok(())
}

/// `PT_INTERP`'s checks in `load_elf_binary`: the path read from the
/// file, up to its first NUL.
fn read_interp(
    src: &(impl ElfSource + ?Sized),
    i: usize,
    p: &Segment,
) -> Result<Vec<u8>, ExecError> {
    if p.p_filesz > PATH_MAX || p.p_filesz < 2 {
        return Err(bad(i, "PT_INTERP size not between 2 and PATH_MAX"));
    }
    // p_filesz <= PATH_MAX: a small host allocation.
    match p.p_offset.checked_add(p.p_filesz) {
        Some(end) if end <= src.size() => {}
        _ => return Err(ExecError::InterpPastEof),
    }
    let raw = src.read_at(p.p_offset, p.p_filesz as usize)?;
    if raw.last() != Some(&0) {
        return Err(bad(i, "PT_INTERP not NUL-terminated"));
    }
    let path = raw.split(|&b| b == 0).next().unwrap_or(&[]);
    Ok(path.to_vec())
}

/// Checks of one `PT_LOAD` on its own.
fn check_load(i: usize, p: &Segment, file_len: u64, e_type: u16) -> Result<(), ExecError> {
    if p.p_filesz > p.p_memsz {
        return Err(bad(i, "p_filesz > p_memsz"));
    }
    match p.p_offset.checked_add(p.p_filesz) {
        Some(e) if e <= file_len => {}
        _ => return Err(bad(i, "p_offset + p_filesz past end of file")),
    }
    match p.p_vaddr.checked_add(p.p_memsz) {
        Some(e) if e <= TASK_SIZE as u64 => {}
        _ => return Err(bad(i, "segment outside user space")),
    }
    if p.p_align > 1 && !p.p_align.is_power_of_two() {
        return Err(bad(i, "p_align is not a power of two"));
    }
    if p.p_offset % ELF_PAGE != p.p_vaddr % ELF_PAGE {
        return Err(bad(i, "p_offset and p_vaddr differ modulo the page size"));
    }
    if p.p_align > 1 && p.p_offset % p.p_align != p.p_vaddr % p.p_align {
        return Err(bad(i, "p_offset and p_vaddr differ modulo p_align"));
    }
    if e_type == ET_EXEC && p.p_memsz != 0 && p.p_vaddr < mm::mmap::MMAP_MIN_ADDR as u64 {
        return Err(bad(i, "segment below mmap_min_addr (4096)"));
    }
    Ok(())
}

/// `PT_TLS`: a power-of-two alignment, in the file, inside a `PT_LOAD`.
fn check_tls(i: usize, t: &Segment, loads: &[Segment], file_len: u64) -> Result<(), ExecError> {
    if t.p_align > 1 && !t.p_align.is_power_of_two() {
        return Err(bad(i, "PT_TLS alignment is not a power of two"));
    }
    if t.p_filesz > t.p_memsz {
        return Err(bad(i, "p_filesz > p_memsz"));
    }
    match t.p_offset.checked_add(t.p_filesz) {
        Some(e) if e <= file_len => {}
        _ => return Err(bad(i, "p_offset + p_filesz past end of file")),
    }
    let end = t
        .p_vaddr
        .checked_add(t.p_filesz)
        .ok_or(bad(i, "PT_TLS outside user space"))?;
    // The initialisation image must be loaded; the bss part (.tbss) is
    // allocated by the C library per thread and need not be.
    if !loads
        .iter()
        .any(|l| l.p_vaddr <= t.p_vaddr && end <= l.p_vaddr.saturating_add(l.p_memsz))
    {
        return Err(bad(i, "PT_TLS not inside a PT_LOAD segment"));
    }
    Ok(())
}

/// Where the checks read an executable from, as Linux's `elf_read` reads
/// through `kernel_read`: its size and the few ranges the checks need
/// (the ELF header, the program-header table, the `PT_INTERP` path), never
/// the whole file.
pub trait ElfSource {
    /// The file's size in bytes.
    fn size(&self) -> u64;
    /// The `len` bytes at `off`, which the caller checked lie in the file;
    /// `len` is at most 64 KiB (the program-header table's limit).
    fn read_at(&self, off: u64, len: usize) -> Result<Vec<u8>, ExecError>;
}

impl ElfSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read_at(&self, off: u64, len: usize) -> Result<Vec<u8>, ExecError> {
        usize::try_from(off)
            .ok()
            .and_then(|s| self.get(s..s.checked_add(len)?))
            .map(<[u8]>::to_vec)
            .ok_or(ExecError::Read(crate::errno::EIO))
    }
}

/// A file opened for exec, read through its page cache (the pages the
/// loader then maps: the headers checked are the bytes that run).
pub struct CachedFile<'a> {
    /// The file.
    pub file: &'a crate::fs::MmapFile,
    /// Its size when opened.
    pub size: u64,
    /// The CPU that reads pages in.
    pub cpu: &'a mm::Cpu<'a>,
}

impl ElfSource for CachedFile<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, off: u64, len: usize) -> Result<Vec<u8>, ExecError> {
        let mut buf = vec![0; len];
        self.file
            .read_at(self.cpu, off, &mut buf)
            .map_err(ExecError::Read)?;
        Ok(buf)
    }
}

/// Parse and validate an executable from its bytes. Never panics.
pub fn parse(bytes: &[u8]) -> Result<ElfImage, ExecError> {
    parse_image(bytes, true)
}

/// [`parse`] of a file, reading only the ranges the checks need.
pub fn parse_file(src: &(impl ElfSource + ?Sized)) -> Result<ElfImage, ExecError> {
    parse_image(src, true)
}

/// [`parse`], reading the `PT_INTERP` or (for an interpreter, whose
/// own `PT_INTERP` Linux never looks at) not.
pub(crate) fn parse_image(
    src: &(impl ElfSource + ?Sized),
    with_interp: bool,
) -> Result<ElfImage, ExecError> {
    let file_len = src.size();
    let bytes = src.read_at(0, file_len.min(EHDR_SIZE as u64) as usize)?;
    check_ident(&bytes)?;
    let tail = bytes
        .get(EI_NIDENT..EHDR_SIZE)
        .ok_or(ExecError::TruncatedHeader)?;
    let ident = (LittleEndian, Class::ELF64, bytes[7], bytes[8]);
    let eh = FileHeader::parse_tail(ident, tail).map_err(|_| ExecError::TruncatedHeader)?;
    if eh.version != EV_CURRENT {
        return Err(ExecError::BadVersion(eh.version));
    }
    if eh.e_machine != EM_RISCV {
        return Err(ExecError::WrongMachine(eh.e_machine));
    }
    if eh.e_type != ET_EXEC && eh.e_type != ET_DYN {
        return Err(ExecError::NotExecutable(eh.e_type));
    }
    if usize::from(eh.e_phentsize) != PHDR_SIZE {
        return Err(ExecError::BadPhentsize(eh.e_phentsize));
    }
    let phnum = usize::from(eh.e_phnum);
    if phnum == 0 || phnum * PHDR_SIZE > MAX_PHDR_TABLE {
        return Err(ExecError::BadPhnum(eh.e_phnum));
    }
    // Each entry must lie in the file: name the first that does not.
    let phoff = usize::try_from(eh.e_phoff).map_err(|_| ExecError::TruncatedPhdr(0))?;
    for i in 0..phnum {
        let end = phoff
            .checked_add((i + 1) * PHDR_SIZE)
            .ok_or(ExecError::TruncatedPhdr(i))?;
        if end as u64 > file_len {
            return Err(ExecError::TruncatedPhdr(i));
        }
    }
    let table_end = phoff + phnum * PHDR_SIZE;
    let table_bytes = src.read_at(phoff as u64, phnum * PHDR_SIZE)?;
    let table = SegmentTable::new(LittleEndian, Class::ELF64, &table_bytes);
    let mut phdrs = Vec::with_capacity(phnum);
    for i in 0..phnum {
        let p = table.get(i).map_err(|_| ExecError::TruncatedPhdr(i))?;
        phdrs.push(Segment::from(p));
    }

    // Only the first PT_INTERP counts, as in Linux.
    let interp = match phdrs
        .iter()
        .enumerate()
        .find(|(_, p)| p.p_type == PT_INTERP)
    {
        Some((i, p)) if with_interp => Some(read_interp(src, i, p)?),
        _ => None,
    };

    let mut loads = Vec::new();
    let mut prev: Option<(usize, u64)> = None;
    let mut min_file_size = table_end as u64;
    let mut max_align = ELF_PAGE;
    let mut phdr_vaddr = None;
    for (i, p) in phdrs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.p_type == PT_LOAD)
    {
        check_load(i, p, file_len, eh.e_type)?;
        if let Some((j, end)) = prev {
            if p.p_vaddr < end {
                return Err(ExecError::Overlap { a: j, b: i });
            }
        }
        prev = Some((i, p.end()));
        min_file_size = min_file_size.max(p.p_offset + p.p_filesz);
        if p.p_align > max_align {
            max_align = p.p_align;
        }
        if p.p_offset <= eh.e_phoff && eh.e_phoff < p.p_offset + p.p_filesz {
            phdr_vaddr = Some(eh.e_phoff - p.p_offset + p.p_vaddr);
        }
        loads.push(*p);
    }
    if loads.is_empty() {
        return Err(ExecError::NoLoad);
    }

    let mut tls = None;
    let mut exec_stack = false;
    for (i, p) in phdrs.iter().enumerate() {
        match p.p_type {
            PT_TLS => {
                check_tls(i, p, &loads, file_len)?;
                tls = Some(*p);
            }
            PT_GNU_STACK => exec_stack = p.p_flags & PF_X != 0,
            _ => {}
        }
    }

    if eh.e_entry >= TASK_SIZE as u64 {
        return Err(ExecError::BadEntry(eh.e_entry));
    }

    Ok(ElfImage {
        e_type: eh.e_type,
        entry: eh.e_entry,
        phnum: eh.e_phnum,
        phdrs,
        loads,
        exec_stack,
        tls,
        phdr_vaddr,
        min_file_size,
        max_align,
        interp,
    })
}
