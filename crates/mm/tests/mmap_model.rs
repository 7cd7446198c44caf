//! Model-based test of the address-space layer: random sequences of mmap
//! (with and without MAP_FIXED, private and shared), munmap, mprotect and
//! brk against a reference model that keeps one entry per mapped page;
//! after every step the VMA set, the counters and `find_vma` answers must
//! match the model.

mod common;

use std::collections::BTreeMap;

use mm::mmap::errno::ENOMEM;
use mm::mmap::*;
use mm::PAGE_SIZE;
use proptest::prelude::*;

const P: usize = PAGE_SIZE;
const WINDOW: usize = 64;
const BASE: usize = 0x1000_0000;
const HEAP: usize = BASE + 32 * P;
const TOP: usize = DEFAULT_MMAP_BASE - WINDOW * P;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PageState {
    flags: VmFlags,
    shmem: u64,
    pgoff: usize,
}

#[derive(Default)]
struct Model {
    pages: BTreeMap<usize, PageState>,
    next_shmem: u64,
    brk: usize,
}

fn prot_flags(prot: usize) -> VmFlags {
    let mut f = VmFlags::empty();
    if prot & PROT_READ != 0 {
        f |= VmFlags::VM_READ;
    }
    if prot & PROT_WRITE != 0 {
        f |= VmFlags::VM_WRITE;
    }
    if prot & PROT_EXEC != 0 {
        f |= VmFlags::VM_EXEC;
    }
    f
}

impl Model {
    /// Areas: maximal runs of pages Linux would keep in one VMA.
    fn vmas(&self) -> Vec<(usize, usize, VmFlags)> {
        let mut out: Vec<(usize, usize, VmFlags)> = Vec::new();
        let mut last: Option<(usize, PageState)> = None;
        for (&pg, &st) in &self.pages {
            let joins = match last {
                Some((lp, ls)) => {
                    lp + 1 == pg
                        && ls.flags == st.flags
                        && ls.shmem == st.shmem
                        && ls.pgoff + 1 == st.pgoff
                }
                None => false,
            };
            if joins {
                out.last_mut().unwrap().1 = (pg + 1) * P;
            } else {
                out.push((pg * P, (pg + 1) * P, st.flags));
            }
            last = Some((pg, st));
        }
        out
    }

    fn unmap(&mut self, start: usize, end: usize) {
        let keys: Vec<usize> = self
            .pages
            .range(start / P..end / P)
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            self.pages.remove(&k);
        }
    }

    fn mmap(&mut self, addr: usize, len: usize, prot: usize, shared: bool, noreserve: bool) {
        self.unmap(addr, addr + len);
        let mut f =
            prot_flags(prot) | VmFlags::VM_MAYREAD | VmFlags::VM_MAYWRITE | VmFlags::VM_MAYEXEC;
        if shared {
            f |= VmFlags::VM_SHARED | VmFlags::VM_MAYSHARE;
        }
        if noreserve {
            f |= VmFlags::VM_NORESERVE;
        }
        if f & (VmFlags::VM_NORESERVE | VmFlags::VM_SHARED | VmFlags::VM_WRITE) == VmFlags::VM_WRITE
        {
            f |= VmFlags::VM_ACCOUNT;
        }
        let shmem = if shared {
            self.next_shmem += 1;
            self.next_shmem
        } else {
            0
        };
        for i in 0..len / P {
            let pgoff = if shared { i } else { addr / P + i };
            self.pages.insert(
                addr / P + i,
                PageState {
                    flags: f,
                    shmem,
                    pgoff,
                },
            );
        }
    }

    /// Highest free `[a, a + len)` below `DEFAULT_MMAP_BASE`.
    fn topdown(&self, len: usize) -> usize {
        let mut hi = DEFAULT_MMAP_BASE;
        for (&k, _) in self.pages.range(..DEFAULT_MMAP_BASE / P).rev() {
            if hi - (k + 1) * P >= len {
                return hi - len;
            }
            hi = k * P;
        }
        hi - len
    }

    fn mprotect(&mut self, start: usize, end: usize, prot: usize) -> Result<(), i32> {
        let first = self.pages.range(start / P..end / P).next().map(|(k, _)| *k);
        if first != Some(start / P) {
            return Err(ENOMEM);
        }
        for pg in start / P..end / P {
            let Some(st) = self.pages.get_mut(&pg) else {
                return Err(ENOMEM);
            };
            let mask = VmFlags::VM_READ | VmFlags::VM_WRITE | VmFlags::VM_EXEC;
            let mut nf = prot_flags(prot) | st.flags.difference(mask);
            if nf != st.flags
                && nf.contains(VmFlags::VM_WRITE)
                && !st
                    .flags
                    .intersects(VmFlags::VM_ACCOUNT | VmFlags::VM_SHARED | VmFlags::VM_NORESERVE)
            {
                nf |= VmFlags::VM_ACCOUNT;
            }
            st.flags = nf;
        }
        Ok(())
    }

    fn brk(&mut self, brk: usize) -> usize {
        let orig = self.brk;
        if brk < HEAP {
            return orig;
        }
        let up = |x: usize| (x + P - 1) & !(P - 1);
        let (newbrk, oldbrk) = (up(brk), up(self.brk));
        if newbrk == oldbrk {
            self.brk = brk;
            return brk;
        }
        if brk <= self.brk {
            self.unmap(newbrk, oldbrk);
            self.brk = brk;
            return brk;
        }
        if let Some((&k, _)) = self.pages.range(oldbrk / P..).next() {
            if newbrk + P > k * P {
                return orig;
            }
        }
        let f = VmFlags::VM_DATA_DEFAULT_FLAGS | VmFlags::VM_ACCOUNT;
        for pg in oldbrk / P..newbrk / P {
            self.pages.insert(
                pg,
                PageState {
                    flags: f,
                    shmem: 0,
                    pgoff: pg,
                },
            );
        }
        self.brk = brk;
        brk
    }
}

#[derive(Clone, Debug)]
enum Step {
    Mmap {
        fixed: bool,
        top: bool,
        page: usize,
        n: usize,
        prot: usize,
        shared: bool,
        noreserve: bool,
    },
    Munmap {
        top: bool,
        page: usize,
        n: usize,
    },
    Mprotect {
        top: bool,
        page: usize,
        n: usize,
        prot: usize,
    },
    Brk {
        page: usize,
        off: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (any::<bool>(), any::<bool>(), 0..WINDOW, 1..8usize, 0..8usize, prop::bool::weighted(0.2), prop::bool::weighted(0.1))
            .prop_map(|(fixed, top, page, n, prot, shared, noreserve)| Step::Mmap { fixed, top, page, n, prot, shared, noreserve }),
        2 => (any::<bool>(), 0..WINDOW, 1..12usize).prop_map(|(top, page, n)| Step::Munmap { top, page, n }),
        3 => (any::<bool>(), 0..WINDOW, 1..12usize, 0..8usize).prop_map(|(top, page, n, prot)| Step::Mprotect { top, page, n, prot }),
        1 => (0..40usize, 0..P).prop_map(|(page, off)| Step::Brk { page, off }),
    ]
}

fn check(mm: &mut MmBox<'_>, model: &Model) {
    let got: Vec<(usize, usize, VmFlags)> = mm
        .vmas()
        .map(|v| (v.vm_start, v.vm_end, v.vm_flags))
        .collect();
    let want = model.vmas();
    assert_eq!(got, want);
    let st = mm.state();
    st.validate().unwrap();
    assert_eq!(st.total_vm, model.pages.len());
    assert_eq!(st.map_count, want.len());
    assert_eq!(st.brk, model.brk);
    for base in [BASE - 4 * P, TOP - 4 * P] {
        for pg in 0..WINDOW + 8 {
            let a = base + pg * P + 8;
            let want_v = want.iter().find(|v| v.1 > a).map(|v| (v.0, v.1));
            let got_v = st.find_vma(a).map(|v| (v.vm_start, v.vm_end));
            assert_eq!(got_v, want_v, "find_vma({a:#x})");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn mmap_family_matches_the_model(steps in prop::collection::vec(step(), 1..60)) {
        let k = common::boot_quiet(32 << 20, 1);
        let cpu = k.mem.cpu(0).unwrap();
        let mut mm = MmStruct::new(&cpu).unwrap();
        mm.state().start_brk = HEAP;
        mm.state().brk = HEAP;
        let mut model = Model { brk: HEAP, ..Model::default() };
        for s in &steps {
            match *s {
                Step::Mmap { fixed, top, page, n, prot, shared, noreserve } => {
                    let ty = if shared { MAP_SHARED } else { MAP_PRIVATE };
                    let mut flags = ty | MAP_ANONYMOUS;
                    if noreserve {
                        flags |= MAP_NORESERVE;
                    }
                    let base = if top { TOP } else { BASE };
                    let prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
                    if fixed {
                        let a = base + page * P;
                        prop_assert_eq!(mm.do_mmap(&cpu, a, n * P, prot, flags | MAP_FIXED), Ok(a));
                        model.mmap(a, n * P, prot, shared, noreserve);
                    } else {
                        let want = model.topdown(n * P);
                        prop_assert_eq!(mm.do_mmap(&cpu, 0, n * P, prot, flags), Ok(want));
                        model.mmap(want, n * P, prot, shared, noreserve);
                    }
                }
                Step::Munmap { top, page, n } => {
                    let a = if top { TOP } else { BASE } + page * P;
                    prop_assert_eq!(mm.do_munmap(&cpu, a, n * P), Ok(()));
                    model.unmap(a, a + n * P);
                }
                Step::Mprotect { top, page, n, prot } => {
                    let a = if top { TOP } else { BASE } + page * P;
                    let prot = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
                    let want = model.mprotect(a, a + n * P, prot);
                    prop_assert_eq!(mm.mprotect(&cpu, a, n * P, prot), want);
                }
                Step::Brk { page, off } => {
                    let b = HEAP - 4 * P + page * P + off;
                    let want = model.brk(b);
                    prop_assert_eq!(mm.brk(&cpu, b), want);
                }
            }
            check(&mut mm, &model);
        }
        mm.free(&cpu);
    }
}
