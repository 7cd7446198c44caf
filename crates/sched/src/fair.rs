//! The fair class (kernel/sched/fair.c, CFS): SCHED_NORMAL, SCHED_BATCH and
//! SCHED_IDLE with Linux's nice-to-weight table; tasks ordered by virtual
//! run time (ns of run time scaled by 1024 / weight) in a red-black tree
//! (`intrusive-collections`, the nodes in the tasks), so enqueue and
//! dequeue are O(log n) and the pick is the leftmost node.
//!
//! Where ferrite differs: CFS as Linux had it before EEVDF (6.6), without
//! task groups or PELT load tracking; a migrating task's vruntime is made
//! relative to its old queue's `min_vruntime` and re-based on the new one.

use core::cell::Cell;
use core::ptr::NonNull;

use intrusive_collections::{intrusive_adapter, KeyAdapter, RBTree, RBTreeLink, UnsafeRef};

use crate::{
    data, BalanceOps, ClassId, Ctx, Rq, RqInner, SchedClass, SchedTask, SelectFlags,
    DEQUEUE_MIGRATE, ENQUEUE_MIGRATED, ENQUEUE_NEW, ENQUEUE_WAKEUP, SCHED_BATCH, SCHED_IDLE,
};

/// `NICE_0_LOAD`.
pub const NICE_0_WEIGHT: u32 = 1024;
/// `WEIGHT_IDLEPRIO`.
pub const SCHED_IDLE_WEIGHT: u32 = 3;
/// `sysctl_sched_latency`, `sysctl_sched_min_granularity`,
/// `sysctl_sched_wakeup_granularity` (one CPU's values), in ns.
const SCHED_LATENCY: u64 = 6_000_000;
const MIN_GRANULARITY: u64 = 750_000;
const WAKEUP_GRANULARITY: u64 = 1_000_000;

/// `sched_prio_to_weight`: each nice step is about 1.25x in CPU share.
const PRIO_TO_WEIGHT: [u32; 40] = [
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904,
    3906, 3121, 2501, 1991, 1586, 1277, 1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87,
    70, 56, 45, 36, 29, 23, 18, 15,
];

/// The load weight of nice `nice` (-20..=19).
pub fn nice_to_weight(nice: i32) -> u32 {
    PRIO_TO_WEIGHT[(nice.clamp(-20, 19) + 20) as usize]
}

pub(crate) fn weight_of(policy: u32, nice: i32) -> u32 {
    if policy == SCHED_IDLE {
        SCHED_IDLE_WEIGHT
    } else {
        nice_to_weight(nice)
    }
}

/// A tree node: the link, the key and the task that holds it.
pub struct CfsNode {
    link: RBTreeLink,
    vruntime: Cell<u64>,
    owner: Cell<*const ()>,
}

impl Default for CfsNode {
    fn default() -> Self {
        CfsNode {
            link: RBTreeLink::new(),
            vruntime: Cell::new(0),
            owner: Cell::new(core::ptr::null()),
        }
    }
}

impl core::fmt::Debug for CfsNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CfsNode")
            .field("vruntime", &self.vruntime.get())
            .finish()
    }
}

intrusive_adapter!(CfsAdapter = UnsafeRef<CfsNode>: CfsNode { link: RBTreeLink });

impl<'a> KeyAdapter<'a> for CfsAdapter {
    type Key = (u64, usize);
    fn get_key(&self, n: &'a CfsNode) -> (u64, usize) {
        (n.vruntime.get(), n as *const CfsNode as usize)
    }
}

/// `struct sched_entity`.
#[derive(Debug, Default)]
pub struct SchedEntity {
    node: CfsNode,
    weight: u32,
    prev_sum_exec_runtime: u64,
    /// The vruntime is relative to the old queue's `min_vruntime`
    /// (between a migration's dequeue and enqueue).
    relative: bool,
}

impl SchedEntity {
    /// `vruntime`.
    pub fn vruntime(&self) -> u64 {
        self.node.vruntime.get()
    }

    /// `load.weight`.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    pub(crate) fn set_weight(&mut self, w: u32) {
        self.weight = w.max(1);
    }
}

/// `struct cfs_rq`.
pub(crate) struct CfsRq {
    tree: RBTree<CfsAdapter>,
    pub(crate) nr: u32,
    load: u64,
    pub(crate) min_vruntime: u64,
}

// SAFETY: the tree's nodes are in tasks whose entities the owning run
// queue's lock protects; the tree moves between threads only with it.
unsafe impl Send for CfsRq {}

impl CfsRq {
    pub(crate) fn new() -> Self {
        CfsRq {
            tree: RBTree::new(CfsAdapter::new()),
            nr: 0,
            load: 0,
            min_vruntime: 0,
        }
    }

    fn leftmost<T: SchedTask>(&self) -> Option<NonNull<T>> {
        let n = self.tree.front().get()?;
        NonNull::new(n.owner.get() as *mut T)
    }

    /// Every task in the tree, leftmost first.
    pub(crate) fn for_each<T: SchedTask>(&self, mut f: impl FnMut(NonNull<T>)) {
        for n in self.tree.iter() {
            if let Some(p) = NonNull::new(n.owner.get() as *mut T) {
                f(p);
            }
        }
    }
}

fn node<T: SchedTask>(p: NonNull<T>) -> *const CfsNode {
    // SAFETY: a projection of a live entity under its lock.
    unsafe { &raw const (*data(p)).se.node }
}

fn insert<T: SchedTask>(cfs: &mut CfsRq, p: NonNull<T>) {
    let n = node(p);
    // SAFETY: the node lives in the task, which the queue keeps alive
    // while it is in the tree; it is not in any tree now.
    unsafe {
        (*n).owner.set(p.as_ptr() as *const ());
        debug_assert!(!(*n).link.is_linked());
        cfs.tree.insert(UnsafeRef::from_raw(n));
    }
}

fn remove<T: SchedTask>(cfs: &mut CfsRq, p: NonNull<T>) {
    let n = node(p);
    // SAFETY: the node is in this tree when linked (a task is on one
    // run queue at a time, under its lock).
    unsafe {
        if (*n).link.is_linked() {
            cfs.tree.cursor_mut_from_ptr(n).remove();
        }
    }
}

fn vr<T: SchedTask>(p: NonNull<T>) -> u64 {
    // SAFETY: under p's rq lock.
    unsafe { (*data(p)).se.node.vruntime.get() }
}

fn set_vr<T: SchedTask>(p: NonNull<T>, v: u64) {
    // SAFETY: as below.
    debug_assert!(
        !unsafe { (*data(p)).se.node.link.is_linked() },
        "key changed in the tree"
    );
    // SAFETY: under p's rq lock, and p is not in a tree (its key changes).
    unsafe { (*data(p)).se.node.vruntime.set(v) }
}

fn weight<T: SchedTask>(p: NonNull<T>) -> u64 {
    // SAFETY: under p's rq lock.
    unsafe { (*data(p)).se.weight as u64 }
}

fn calc_delta_fair(delta: u64, w: u64) -> u64 {
    if w == NICE_0_WEIGHT as u64 {
        delta
    } else {
        (delta as u128 * NICE_0_WEIGHT as u128 / w.max(1) as u128) as u64
    }
}

fn update_min_vruntime<T: SchedTask>(rq: &mut RqInner<T>) {
    let mut v: Option<u64> = None;
    if let Some(c) = rq.curr() {
        // SAFETY: under the rq lock.
        if unsafe { crate::class_of_policy((*data(c)).policy) } == ClassId::Fair {
            v = Some(vr(c));
        }
    }
    if let Some(l) = rq.cfs.leftmost::<T>() {
        let lv = vr(l);
        v = Some(v.map_or(lv, |c| c.min(lv)));
    }
    if let Some(v) = v {
        rq.cfs.min_vruntime = rq.cfs.min_vruntime.max(v);
    }
}

/// `sched_slice`: the task's share of the latency period.
fn sched_slice<T: SchedTask>(rq: &RqInner<T>, p: NonNull<T>) -> u64 {
    let load = rq.cfs.load.max(1);
    let nr = rq.cfs.nr as u64;
    let period = if nr > 8 {
        nr * MIN_GRANULARITY
    } else {
        SCHED_LATENCY
    };
    (period as u128 * weight(p) as u128 / load as u128).max(MIN_GRANULARITY as u128) as u64
}

/// A nice or policy change of `p`: its load weight follows.
pub(crate) fn reweight<T: SchedTask>(rq: &mut RqInner<T>, p: NonNull<T>, _running: bool) {
    // SAFETY: under p's rq lock.
    unsafe {
        let d = &mut *data(p);
        let new = weight_of(d.policy, d.nice);
        if d.on_rq && crate::class_of_policy(d.policy) == ClassId::Fair {
            rq.cfs.load = rq.cfs.load - d.se.weight as u64 + new as u64;
        }
        d.se.set_weight(new);
    }
}

pub(crate) struct FairClass;

impl<T: SchedTask> SchedClass<T> for FairClass {
    fn id(&self) -> ClassId {
        ClassId::Fair
    }

    fn enqueue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, flags: u32, _cx: &Ctx) {
        let min = rq.cfs.min_vruntime;
        rq.cfs.nr += 1;
        rq.cfs.load += weight(p);
        // SAFETY: under the rq lock, which owns p's entities now.
        let relative = unsafe { core::mem::take(&mut (*data(p)).se.relative) };
        let v = if relative { vr(p) + min } else { vr(p) };
        // `place_entity`: no further behind `min_vruntime` than half a
        // latency period (a sleeper's bonus), and no further ahead than
        // two periods of its own weight (a value from another queue's
        // past must not drag this queue's `min_vruntime` along).
        let floor = min.saturating_sub(SCHED_LATENCY / 2);
        let ceil = min + calc_delta_fair(2 * SCHED_LATENCY, weight(p));
        let nv = if flags & ENQUEUE_NEW != 0 {
            min + calc_delta_fair(sched_slice(rq, p), weight(p))
        } else if flags & ENQUEUE_WAKEUP != 0 && flags & ENQUEUE_MIGRATED != 0 {
            floor
        } else {
            v.clamp(floor, ceil)
        };
        set_vr(p, nv);
        insert(&mut rq.cfs, p);
    }

    fn dequeue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, flags: u32, _cx: &Ctx) {
        remove(&mut rq.cfs, p);
        rq.cfs.nr -= 1;
        rq.cfs.load -= weight(p);
        if flags & DEQUEUE_MIGRATE != 0 {
            set_vr(p, vr(p).saturating_sub(rq.cfs.min_vruntime));
            // SAFETY: under the rq lock.
            unsafe { (*data(p)).se.relative = true };
        }
        update_min_vruntime(rq);
    }

    fn yield_task(&self, rq: &mut RqInner<T>, _cx: &Ctx) {
        let Some(c) = rq.curr() else { return };
        if let Some(n) = rq.cfs.tree.back().get() {
            let last = n.vruntime.get();
            if last >= vr(c) {
                set_vr(c, last + 1);
            }
            rq.resched_curr();
        }
    }

    fn wakeup_preempt(&self, rq: &mut RqInner<T>, p: NonNull<T>, _cx: &Ctx) {
        let Some(c) = rq.curr() else { return };
        // SAFETY: both are under the rq lock.
        let (cp, pp) = unsafe { ((*data(c)).policy, (*data(p)).policy) };
        if cp == SCHED_IDLE && pp != SCHED_IDLE {
            rq.resched_curr();
            return;
        }
        if pp == SCHED_BATCH || pp == SCHED_IDLE {
            return;
        }
        let gran = calc_delta_fair(WAKEUP_GRANULARITY, weight(p));
        if vr(c) > vr(p) + gran {
            rq.resched_curr();
        }
    }

    fn pick_next_task(&self, rq: &mut RqInner<T>, _cx: &Ctx) -> Option<NonNull<T>> {
        rq.cfs.leftmost()
    }

    fn put_prev_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, _cx: &Ctx) {
        // SAFETY: under the rq lock.
        if unsafe { (*data(p)).on_rq } {
            insert(&mut rq.cfs, p);
        }
    }

    fn set_next_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, _first: bool, _cx: &Ctx) {
        remove(&mut rq.cfs, p);
        // SAFETY: under the rq lock.
        unsafe {
            let d = &mut *data(p);
            d.se.prev_sum_exec_runtime = d.sum_exec_runtime;
        }
    }

    fn update_curr(&self, rq: &mut RqInner<T>, p: NonNull<T>, delta: u64, _cx: &Ctx) {
        let v = vr(p) + calc_delta_fair(delta, weight(p));
        set_vr(p, v);
        update_min_vruntime(rq);
    }

    fn task_tick(&self, rq: &mut RqInner<T>, p: NonNull<T>, _cx: &Ctx) {
        if rq.cfs.nr < 2 {
            return;
        }
        let ideal = sched_slice(rq, p);
        // SAFETY: under the rq lock.
        let ran = unsafe {
            let d = &*data(p);
            d.sum_exec_runtime - d.se.prev_sum_exec_runtime
        };
        if ran > ideal {
            rq.resched_curr();
            return;
        }
        if let Some(l) = rq.cfs.leftmost::<T>() {
            if ran >= MIN_GRANULARITY && vr(p) > vr(l) + ideal {
                rq.resched_curr();
            }
        }
    }

    fn select_task_rq(
        &self,
        rqs: &[Rq<T>],
        p: NonNull<T>,
        prev: usize,
        _why: SelectFlags,
    ) -> usize {
        crate::rt::least_loaded(rqs, crate::mask_of(p), prev)
    }

    fn balance(&self, s: &dyn BalanceOps<T>, this: usize, now: u64) -> bool {
        crate::rt::pull_queued(s, this, now, ClassId::Fair)
    }

    fn task_fork(&self, p: NonNull<T>) {
        set_vr(p, 0);
    }

    fn get_rr_interval(&self, rq: &RqInner<T>, p: NonNull<T>) -> u64 {
        // SAFETY: under the rq lock.
        if unsafe { (*data(p)).on_rq } {
            sched_slice(rq, p)
        } else {
            SCHED_LATENCY
        }
    }
}
