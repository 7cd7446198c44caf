//! Mapping a parsed image into an address space (fs/binfmt_elf.c
//! `load_elf_binary`'s `PT_LOAD` loop, `elf_load`, `padzero`, the load
//! bias of an `ET_DYN`, `set_brk`, and fs/exec.c `setup_arg_pages`).
//!
//! - Each `PT_LOAD` becomes a private file mapping (`MAP_PRIVATE |
//!   MAP_FIXED`) from the page holding `p_vaddr`, at the page-aligned file
//!   offset, for `p_filesz` plus the page offset, with the segment's
//!   `PF_R`/`PF_W`/`PF_X` as `PROT_READ`/`PROT_WRITE`/`PROT_EXEC`.
//! - The bss: when `p_memsz > p_filesz`, the rest of the page after the
//!   file bytes is cleared with `clear_user` (Linux's `padzero`; the write
//!   faults a private copy of that file page in; a fault is ignored if the
//!   segment is not writable, as in Linux), and the pages from there to
//!   `p_vaddr + p_memsz` are an anonymous read/write mapping (plus exec for
//!   an executable segment), as `vm_brk_flags` makes them.
//! - The load bias: 0 for `ET_EXEC`. A PIE with an interpreter goes to
//!   `ELF_ET_DYN_BASE` (2/3 of riscv64's `DEFAULT_MAP_WINDOW`, Sv48's
//!   `1 << 47`: `0x5555_5555_5554`), aligned down to its largest
//!   `p_align`, less the first segment's page (`ELF_PAGESTART(load_bias -
//!   vaddr)`), so a PIE linked at 0 starts at `0x5555_5555_5000`. A
//!   static-pie (`ET_DYN` without `PT_INTERP`, which includes a dynamic
//!   loader run as the program) is placed as Linux ≥ 5.10 places one:
//!   where `mmap` puts the whole span, top-down below `mmap_base`
//!   (`STACK_TOP - 128 MiB` without randomisation), aligned down to the
//!   largest `p_align` above a page (Linux ≥ 6.10).
//! - The interpreter (`load_elf_interp`): after the program, its span
//!   where `mmap` puts it (top-down below `mmap_base`; 0 for an `ET_EXEC`
//!   interpreter), its segments mapped as the program's (bss included).
//!   `AT_BASE` is its bias, the first instruction is its entry, and
//!   `AT_PHDR`, `AT_PHNUM`, `AT_ENTRY` stay the program's. The layout
//!   fields and the break are the program's alone.
//! - The vDSO (`ARCH_SETUP_ADDITIONAL_PAGES`), when the caller passes
//!   one: after the stack, top-down, so below the interpreter; see
//!   [`super::vdso`].
//! - The break: `start_brk = brk` = the page-aligned end of the highest
//!   segment (no randomisation, so no `arch_randomize_brk` and no gap, and
//!   a static-pie's break is not moved to `ELF_ET_DYN_BASE`, which Linux
//!   does only with randomisation on). The `[heap]` area appears with the
//!   program's first `brk`.
//! - The stack: `STACK_TOP` = `TASK_SIZE` (riscv's `STACK_TOP` is
//!   `DEFAULT_MAP_WINDOW`, the Sv48 top `1 << 47`, and without
//!   randomisation `arch_align_stack` and `PAGE_ALIGN` leave it there); see
//!   [`super::stack`].
//! - The layout fields: `start_code`/`end_code` span the executable
//!   segments' file parts, `start_data`/`end_data` the last segment's
//!   start and the highest file-part end, as `load_elf_binary` computes
//!   them; `start_stack` is the final `sp`; `arg_*` and `env_*` bound the
//!   strings.

use mm::filemap::File;
use mm::mmap::{
    MmStruct, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, PROT_EXEC, PROT_READ,
    PROT_WRITE, STACK_GUARD_GAP,
};
use mm::percpu::Cpu;
use mm::pgtable::TASK_SIZE;
use mm::uaccess::{clear_user, copy_to_user};

use super::auxv::AuxInfo;
use super::elf::{ElfImage, Segment, ELF_PAGE, ET_DYN, PF_R, PF_W, PF_X};
use super::error::ExecError;
use super::stack::{self, Strings};
use super::vdso::Vdso;
use super::{ExecArgs, Loaded};

/// `STACK_TOP` for riscv64 Sv48 without randomisation.
pub const STACK_TOP: u64 = TASK_SIZE as u64;

/// `ELF_ET_DYN_BASE`: where a PIE with an interpreter is loaded,
/// `(DEFAULT_MAP_WINDOW / 3) * 2` with riscv64's 47-bit default window.
pub const ELF_ET_DYN_BASE: u64 = (TASK_SIZE as u64 / 3) * 2;

/// The interpreter to load with a program that has `PT_INTERP`: its
/// parsed image ([`super::interp::parse_interp`]) and its file.
#[derive(Clone, Copy)]
pub struct Interp<'a> {
    /// The interpreter's headers.
    pub image: &'a ElfImage,
    /// Its page cache, opened for reading.
    pub file: File<'a, 'static>,
}

fn page_start(x: u64) -> u64 {
    x & !(ELF_PAGE - 1)
}

fn page_align(x: u64) -> Option<u64> {
    x.checked_add(ELF_PAGE - 1).map(|v| v & !(ELF_PAGE - 1))
}

/// `make_prot`: the segment's protections.
pub fn segment_prot(flags: u32) -> usize {
    let mut p = 0;
    if flags & PF_R != 0 {
        p |= PROT_READ;
    }
    if flags & PF_W != 0 {
        p |= PROT_WRITE;
    }
    if flags & PF_X != 0 {
        p |= PROT_EXEC;
    }
    p
}

fn usize_of(x: u64, what: &'static str) -> Result<usize, ExecError> {
    usize::try_from(x).map_err(|_| ExecError::mm(what, crate::errno::ENOMEM))
}

/// The load bias: 0 for `ET_EXEC`; for a PIE with an interpreter
/// (`dyn_base`), `ELF_ET_DYN_BASE`; for a static-pie or an interpreter,
/// where `mmap` would put the whole span.
fn load_bias(
    cpu: &Cpu<'static>,
    mm: &MmStruct<'static>,
    image: &ElfImage,
    dyn_base: bool,
) -> Result<u64, ExecError> {
    if image.e_type != ET_DYN {
        return Ok(0);
    }
    let first = image.loads.first().ok_or(ExecError::NoLoad)?;
    let last = image.loads.last().ok_or(ExecError::NoLoad)?;
    let lo = page_start(first.p_vaddr);
    let what = if dyn_base { "place PIE" } else { "place image" };
    let bias = if dyn_base {
        // Linux aligns the base to the largest p_align (at least a page)
        // and then takes the first segment's page off.
        let base = ELF_ET_DYN_BASE & !(image.max_align.max(ELF_PAGE) - 1);
        page_start(base.wrapping_sub(first.p_vaddr))
    } else {
        let span = page_align(last.end() - lo).ok_or(ExecError::NoStackRoom)?;
        let span = usize_of(span.max(ELF_PAGE), what)?;
        let addr = mm
            .mmap_write_lock(cpu)
            .get_unmapped_area(0, span, 0)
            .map_err(|e| ExecError::mm(what, e))? as u64;
        let mut bias = addr.wrapping_sub(lo);
        if image.max_align > ELF_PAGE {
            bias &= !(image.max_align - 1);
        }
        bias
    };
    // The biased span must still be user space.
    match bias.checked_add(last.end()) {
        Some(e) if e <= STACK_TOP && bias.wrapping_add(lo) >= mm::mmap::MMAP_MIN_ADDR as u64 => {
            Ok(bias)
        }
        _ => Err(ExecError::mm(what, crate::errno::ENOMEM)),
    }
}

/// `elf_load`: map one `PT_LOAD` at `bias`.
fn map_segment(
    cpu: &Cpu<'static>,
    mm: &MmStruct<'static>,
    file: &File<'_, 'static>,
    seg: &Segment,
    bias: u64,
) -> Result<(), ExecError> {
    let prot = segment_prot(seg.p_flags);
    let vaddr = bias + seg.p_vaddr;
    let pgoff = vaddr % ELF_PAGE;
    let start = vaddr - pgoff;
    let zero_start;
    let zero_end = vaddr + seg.p_memsz;
    if seg.p_filesz != 0 {
        let len = usize_of(seg.p_filesz + pgoff, "map segment")?;
        let off = (seg.p_offset - pgoff) / ELF_PAGE;
        mm.do_mmap_file(
            cpu,
            usize_of(start, "map segment")?,
            len,
            prot,
            MAP_PRIVATE | MAP_FIXED,
            Some(file),
            usize_of(off, "map segment")?,
        )
        .map_err(|e| ExecError::mm("map segment", e))?;
        zero_start = vaddr + seg.p_filesz;
        if seg.p_memsz > seg.p_filesz && zero_start % ELF_PAGE != 0 {
            let n = ELF_PAGE - zero_start % ELF_PAGE;
            let r = clear_user(cpu, mm, zero_start as usize, n as usize);
            if r.is_err() && prot & PROT_WRITE != 0 {
                return Err(ExecError::Fault("clearing the bss"));
            }
        }
    } else {
        zero_start = start;
    }
    if seg.p_memsz > seg.p_filesz {
        let a = page_align(zero_start).ok_or(ExecError::NoStackRoom)?;
        let b = page_align(zero_end).ok_or(ExecError::NoStackRoom)?;
        if b > a {
            mm.do_mmap(
                cpu,
                usize_of(a, "map bss")?,
                usize_of(b - a, "map bss")?,
                PROT_READ | PROT_WRITE | (prot & PROT_EXEC),
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
            )
            .map_err(|e| ExecError::mm("map bss", e))?;
        }
    }
    Ok(())
}

/// The layout fields `load_elf_binary` computes from the segments.
#[derive(Default)]
struct Layout {
    start_code: u64,
    end_code: u64,
    start_data: u64,
    end_data: u64,
    brk: u64,
}

fn layout(image: &ElfImage, bias: u64) -> Layout {
    let mut l = Layout {
        start_code: u64::MAX,
        ..Layout::default()
    };
    for s in &image.loads {
        let file_end = s.p_vaddr + s.p_filesz;
        if s.p_flags & PF_X != 0 {
            l.start_code = l.start_code.min(s.p_vaddr);
            l.end_code = l.end_code.max(file_end);
        }
        l.start_data = l.start_data.max(s.p_vaddr);
        l.end_data = l.end_data.max(file_end);
        l.brk = l.brk.max(s.end());
    }
    if l.start_code == u64::MAX {
        // No executable segment: nothing to call code (Linux would leave
        // ~0 here).
        l.start_code = 0;
        l.end_code = 0;
    } else {
        l.start_code += bias;
        l.end_code += bias;
    }
    l.start_data += bias;
    l.end_data += bias;
    l.brk = page_align(l.brk + bias).unwrap_or(STACK_TOP);
    l
}

/// Load `image` (read from `file`) into the empty address space `mm`,
/// with its interpreter `interp` when it has a `PT_INTERP` (then required:
/// [`ExecError::Dynamic`] without one; ignored for a static program) and
/// the vDSO `vdso` if given, and build its initial stack from `args`.
///
/// Everything that can be refused without touching `mm` is checked first
/// (the files' sizes, the interpreter, `E2BIG`): an error from those leaves
/// `mm` empty. A later error may leave part of the image in `mm`; the
/// caller tears it down (after the point of no return, Linux kills the
/// task with `SIGSEGV`).
#[allow(clippy::too_many_arguments)]
pub fn load(
    cpu: &Cpu<'static>,
    mm: &MmStruct<'static>,
    image: &ElfImage,
    file: &File<'_, 'static>,
    args: &ExecArgs,
    interp: Option<Interp<'_>>,
    vdso: Option<&Vdso>,
) -> Result<Loaded, ExecError> {
    if file.mapping().size() < image.min_file_size {
        return Err(ExecError::FileChanged);
    }
    let interp = match (image.interp.is_some(), interp) {
        (false, _) => None,
        (true, None) => {
            return Err(ExecError::Dynamic {
                interp: image.interp_name(),
            })
        }
        (true, Some(i)) => {
            if i.file.mapping().size() < i.image.min_file_size {
                return Err(ExecError::BadInterp {
                    interp: image.interp_name(),
                    why: Box::new(ExecError::FileChanged),
                });
            }
            Some(i)
        }
    };
    // Strings first: E2BIG before the address space is touched.
    let strings = Strings::place(args, STACK_TOP)?;
    let (stack_start, stack_end) = strings.vma();

    let bias = load_bias(cpu, mm, image, interp.is_some())?;
    for seg in image.loads.iter().filter(|s| s.p_memsz != 0) {
        map_segment(cpu, mm, file, seg, bias)?;
    }
    // load_elf_interp: where mmap puts it, after the program.
    let interp_at = match &interp {
        Some(i) => {
            let ibias = load_bias(cpu, mm, i.image, false)?;
            for seg in i.image.loads.iter().filter(|s| s.p_memsz != 0) {
                map_segment(cpu, mm, &i.file, seg, ibias)?;
            }
            Some((ibias, i.image.entry.wrapping_add(ibias)))
        }
        None => None,
    };
    let l = layout(image, bias);
    // The stack may not meet the segments (nor their guard gap).
    if mm
        .mmap_write_lock(cpu)
        .find_vma_intersection(
            usize_of(
                stack_start.saturating_sub(STACK_GUARD_GAP as u64),
                "map stack",
            )?,
            usize_of(stack_end, "map stack")?,
        )
        .is_some()
        || l.brk > stack_start
    {
        return Err(ExecError::NoStackRoom);
    }
    let exec = if image.exec_stack { PROT_EXEC } else { 0 };
    mm.do_mmap(
        cpu,
        usize_of(stack_start, "map stack")?,
        usize_of(stack_end - stack_start, "map stack")?,
        PROT_READ | PROT_WRITE | exec,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN,
    )
    .map_err(|e| ExecError::mm("map stack", e))?;
    let vdso_at = match vdso {
        Some(v) => Some(v.map(cpu, mm)?),
        None => None,
    };

    let prog_entry = image.entry.wrapping_add(bias);
    // As Linux: the bias alone when no segment maps the headers.
    let phdr = image.phdr_vaddr.unwrap_or(0).wrapping_add(bias);
    let (interp_base, entry) = interp_at.unwrap_or((0, prog_entry));
    let info = AuxInfo {
        phdr,
        phnum: u64::from(image.phnum),
        entry: prog_entry,
        base: interp_base,
        sysinfo_ehdr: vdso_at,
        uid: args.uid,
        gid: args.gid,
        random: 0,
        execfn: 0,
    };
    let img = stack::build(args, &strings, info);
    copy_to_user(cpu, mm, img.sp as usize, &img.bytes)
        .map_err(|_| ExecError::Fault("writing the initial stack"))?;

    {
        let mut st = mm.mmap_write_lock(cpu);
        st.start_code = l.start_code as usize;
        st.end_code = l.end_code as usize;
        st.start_data = l.start_data as usize;
        st.end_data = l.end_data as usize;
        st.start_brk = l.brk as usize;
        st.brk = l.brk as usize;
        st.start_stack = img.sp as usize;
        st.arg_start = strings.arg.0 as usize;
        st.arg_end = strings.arg.1 as usize;
        st.env_start = strings.env.0 as usize;
        st.env_end = strings.env.1 as usize;
    }

    Ok(Loaded {
        entry,
        prog_entry,
        interp_base,
        vdso: vdso_at.unwrap_or(0),
        vdso_sigreturn: match (vdso, vdso_at) {
            (Some(v), Some(at)) => at + v.sigreturn_offset(),
            _ => 0,
        },
        sp: img.sp,
        load_bias: bias,
        phdr,
        phnum: u64::from(image.phnum),
        brk: l.brk,
        stack_top: STACK_TOP,
        argc: img.argc,
        argv: img.argv,
        envp: img.envp,
        auxv: img.auxv,
        exec_stack: image.exec_stack,
    })
}
