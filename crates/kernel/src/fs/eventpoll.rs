//! epoll: fs/eventpoll.c (`epoll_create1`, `epoll_ctl`, `epoll_pwait`,
//! `epoll_pwait2`, and the epoll file's own poll).
//!
//! An epoll instance is an interest list of (descriptor, file) entries,
//! each with the events asked for and the caller's data. A wait scans the
//! list with each file's poll method (the one `ppoll` uses, fs/poll.rs)
//! and, when nothing is ready and it may wait, sleeps on the wait queues
//! of every file in the list through the same loop as `ppoll`. Level
//! triggered by default; `EPOLLET` reports an entry only when one of its
//! file's wait queues has been woken since the entry was last reported
//! (or it was added); `EPOLLONESHOT` disables an entry once reported,
//! until `EPOLL_CTL_MOD`. EPOLLERR and EPOLLHUP are always asked for.
//!
//! An entry holds its file weakly, as Linux's does: closing the
//! descriptor does not remove it, the file's last close does (the entry
//! then reports nothing and goes at the next scan). An epoll file can be
//! watched by another, at most [`EP_MAX_NESTS`] deep and never in a loop
//! (ELOOP).
//!
//! Ready entries are reported in the order of Linux's ready list as far
//! as ferrite can tell it: those found ready when added or modified, or
//! reported by an earlier level-triggered wait (at the tail), or left
//! over by a wait that filled `maxevents` (at the head), come first.
//!
//! Where ferrite differs: entries that became ready since the last wait
//! follow those in the order they were added, not in the order their
//! files woke (ferrite records no callback on the files' queues); the
//! interest list and its entries are on the host heap (Linux's
//! `epi_cache`), at most [`MAX_USER_WATCHES`] on the machine (ENOSPC past
//! it, as Linux's `max_user_watches` gives); EPOLLWAKEUP is ignored, as Linux ignores
//! it without CAP_BLOCK_SUSPEND; EPOLLEXCLUSIVE is accepted and wakes
//! every waiter.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};

use crate::errno::*;
use crate::sched::wait::WaitQueue;

use super::fdtable::{Kind, OpenFile};
use super::flags::O_CLOEXEC;
use super::poll::{PollTable, POLLIN, POLLRDNORM};
use super::Fs;

/// `EPOLL_CLOEXEC`.
pub const EPOLL_CLOEXEC: i32 = O_CLOEXEC;
/// `EPOLL_CTL_ADD`.
pub const EPOLL_CTL_ADD: i32 = 1;
/// `EPOLL_CTL_DEL`.
pub const EPOLL_CTL_DEL: i32 = 2;
/// `EPOLL_CTL_MOD`.
pub const EPOLL_CTL_MOD: i32 = 3;
/// `EPOLLERR`.
pub const EPOLLERR: u32 = 0x8;
/// `EPOLLHUP`.
pub const EPOLLHUP: u32 = 0x10;
/// `EPOLLEXCLUSIVE`.
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
/// `EPOLLWAKEUP`.
pub const EPOLLWAKEUP: u32 = 1 << 29;
/// `EPOLLONESHOT`.
pub const EPOLLONESHOT: u32 = 1 << 30;
/// `EPOLLET`.
pub const EPOLLET: u32 = 1 << 31;
/// The flags that are not events (`EP_PRIVATE_BITS`).
const EP_PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/// What `EPOLLEXCLUSIVE` may come with (`EPOLLEXCLUSIVE_OK_BITS`).
const EPOLLEXCLUSIVE_OK_BITS: u32 =
    POLLIN | super::poll::POLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/// How deep epoll files may watch each other.
pub const EP_MAX_NESTS: usize = 4;
/// The most entries all instances of the machine hold together
/// (`max_user_watches`, which Linux sizes by memory): past it, ENOSPC.
pub const MAX_USER_WATCHES: usize = 1 << 17;
/// `sizeof(struct epoll_event)` on riscv64 (not packed: 4 bytes of
/// padding after `events`).
pub const EPOLL_EVENT_SIZE: usize = 16;

/// One entry (`struct epitem`).
struct EpItem {
    /// Its name in the ready list.
    id: u64,
    file: Weak<OpenFile>,
    /// The events asked for, with the private flags (`event.events`).
    events: u32,
    data: u64,
    /// EPOLLET: the wake count of the file's queues when last reported
    /// (None: not reported since added or modified).
    seen: Option<u64>,
}

/// The entries of an instance and its ready list.
#[derive(Default)]
struct EpState {
    /// By id: ids grow, so this is the order they were added.
    items: BTreeMap<u64, EpItem>,
    /// (descriptor, file address) to id (`ep_find`'s tree).
    index: HashMap<(i32, usize), u64>,
    /// `rdllist`: the entries known ready, in the order they became so
    /// (an id whose entry is gone, or listed twice, is skipped; the list
    /// is rebuilt at each wait and compacted when it grows)
    /// (ids): ready when added or modified, or reported by a level-
    /// triggered wait (which puts them at the tail), or left over by a
    /// wait that reported `maxevents` before reaching them (at the head).
    rdllist: Vec<u64>,
    next_id: u64,
}

/// An epoll instance (`struct eventpoll`).
pub struct EventPoll {
    state: Mutex<EpState>,
    /// The machine's count of entries (`epoll_watches`), shared by every
    /// instance: each entry adds one while it lives.
    watches: Arc<AtomicUsize>,
    /// Those polling this epoll file itself (woken by `epoll_ctl`).
    pub(crate) wq: Arc<WaitQueue>,
}

/// A ready entry: its events and data.
pub struct Ready {
    pub events: u32,
    pub data: u64,
}

impl Drop for EventPoll {
    fn drop(&mut self) {
        let n = self.lock().items.len();
        self.watches.fetch_sub(n, Relaxed);
    }
}

impl EventPoll {
    /// A new instance counting its entries in `watches`.
    fn new(watches: Arc<AtomicUsize>) -> EventPoll {
        EventPoll {
            state: Mutex::default(),
            wq: Arc::default(),
            watches,
        }
    }

    /// Drop the entries whose file is gone (uncounting them).
    fn purge(&self, st: &mut EpState) {
        let dead: HashSet<u64> = st
            .items
            .iter()
            .filter(|(_, i)| i.file.strong_count() == 0)
            .map(|(&id, _)| id)
            .collect();
        if dead.is_empty() {
            return;
        }
        st.items.retain(|id, _| !dead.contains(id));
        st.index.retain(|_, id| !dead.contains(id));
        self.watches.fetch_sub(dead.len(), Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, EpState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `ep_send_events`: up to `max` ready entries (each entry's file
    /// polled with `pt`, which collects their queues); `depth` is the
    /// nesting of epoll files being polled.
    pub(crate) fn scan(&self, fs: &Fs, pt: &mut PollTable, max: usize, depth: usize) -> Vec<Ready> {
        let mut out = Vec::new();
        let mut st = self.lock();
        // Entries whose file is gone go now.
        self.purge(&mut st);
        let EpState { items, rdllist, .. } = &mut *st;
        // The ready list first, then the others in the order they were
        // added (those that became ready since the last look).
        let mut listed = HashSet::new();
        let order: Vec<u64> = rdllist
            .iter()
            .copied()
            .filter(|id| items.contains_key(id) && listed.insert(*id))
            .collect::<Vec<u64>>()
            .into_iter()
            .chain(items.keys().copied().filter(|id| !listed.contains(id)))
            .collect();
        let old_list = std::mem::take(rdllist);
        let mut requeue = Vec::new();
        let mut examined = 0;
        for id in &order {
            if out.len() >= max {
                break;
            }
            examined += 1;
            let Some(item) = items.get_mut(id) else {
                continue;
            };
            let Some(file) = item.file.upgrade() else {
                continue;
            };
            let asked = item.events & !EP_PRIVATE_BITS;
            if asked == 0 {
                // Disabled (EPOLLONESHOT fired): not even polled.
                continue;
            }
            let mut own = PollTable {
                wait: true,
                ..PollTable::default()
            };
            let mask = poll_file(&file, fs, &mut own, depth) & asked;
            let wakes: u64 = own.queues.iter().map(|q| q.wakes()).sum();
            if pt.wait {
                for q in &own.queues {
                    pt.add(q);
                }
            }
            pt.host |= own.host;
            pt.wake_at(own.wake_at);
            if mask == 0 {
                continue;
            }
            if item.events & EPOLLET != 0 {
                if item.seen == Some(wakes) && !own.host {
                    continue;
                }
                item.seen = Some(wakes);
            } else if item.events & EPOLLONESHOT == 0 {
                requeue.push(item.id);
            }
            if item.events & EPOLLONESHOT != 0 {
                item.events &= EP_PRIVATE_BITS;
            }
            out.push(Ready {
                events: mask,
                data: item.data,
            });
        }
        // `ep_done_scan`: what was not reached goes back at the head, the
        // level-triggered entries reported at the tail.
        let reached: HashSet<u64> = order[..examined].iter().copied().collect();
        let mut again = HashSet::new();
        *rdllist = old_list
            .into_iter()
            .filter(|id| items.contains_key(id) && !reached.contains(id) && again.insert(*id))
            .chain(requeue)
            .collect();
        out
    }

    /// `ep_eventpoll_poll`: readable when an entry is ready.
    pub(crate) fn poll(&self, fs: &Fs, pt: &mut PollTable, depth: usize) -> u32 {
        pt.add(&self.wq);
        if depth >= EP_MAX_NESTS {
            return 0;
        }
        // Look without consuming: an edge-triggered or one-shot entry is
        // reported by a wait, not by a poll of the epoll file.
        let st = self.lock();
        for item in st.items.values() {
            let asked = item.events & !EP_PRIVATE_BITS;
            let Some(file) = item.file.upgrade().filter(|_| asked != 0) else {
                continue;
            };
            let mut own = PollTable {
                wait: pt.wait,
                ..PollTable::default()
            };
            let mask = poll_file(&file, fs, &mut own, depth + 1) & asked;
            for q in &own.queues {
                pt.add(q);
            }
            pt.host |= own.host;
            pt.wake_at(own.wake_at);
            let edge_seen = item.events & EPOLLET != 0
                && item.seen == Some(own.queues.iter().map(|q| q.wakes()).sum());
            if mask != 0 && !edge_seen {
                return POLLIN | POLLRDNORM;
            }
        }
        0
    }

    /// Whether `target` is this instance or watches it, directly or
    /// through other epoll files (`ep_loop_check`); or nests too deep.
    fn reaches(&self, target: &EventPoll, depth: usize) -> bool {
        if std::ptr::eq(self, target) || depth > EP_MAX_NESTS {
            return true;
        }
        let inner: Vec<Arc<EventPoll>> = self
            .lock()
            .items
            .values()
            .filter_map(|i| i.file.upgrade())
            .filter_map(|f| match &f.kind {
                Kind::Epoll(ep) => Some(ep.clone()),
                _ => None,
            })
            .collect();
        inner.iter().any(|ep| ep.reaches(target, depth + 1))
    }
}

/// A file's poll, epoll files included.
fn poll_file(file: &OpenFile, fs: &Fs, pt: &mut PollTable, depth: usize) -> u32 {
    match &file.kind {
        Kind::Epoll(ep) => ep.poll(fs, pt, depth + 1),
        _ => file.poll(fs, pt),
    }
}

/// Whether `file` has a poll method (`file_can_poll`): regular files,
/// directories, procfs files and the memory devices do not.
fn can_poll(file: &OpenFile) -> bool {
    use super::dev::{CharDev, DevNode};
    match &file.kind {
        Kind::Pipe(_)
        | Kind::EventFd(_)
        | Kind::Epoll(_)
        | Kind::TimerFd(_)
        | Kind::Stdio { .. } => true,
        Kind::Host { regular, .. } => !regular,
        Kind::Dev(DevNode::Chr(CharDev::Tty | CharDev::Random)) => true,
        _ => false,
    }
}

impl Fs {
    /// `epoll_create1(flags)`: EINVAL for flags other than EPOLL_CLOEXEC.
    pub fn epoll_create1(&self, flags: i32) -> Result<i32, Errno> {
        if flags & !EPOLL_CLOEXEC != 0 {
            return Err(EINVAL);
        }
        let ep = EventPoll::new(self.host.epoll_watches.clone());
        self.anon_inode_getfd(Kind::Epoll(Arc::new(ep)), 0, flags & EPOLL_CLOEXEC != 0)
    }

    /// The epoll instance of `epfd` (EBADF, EINVAL if it is not one).
    pub(crate) fn epoll_of(&self, epfd: i32) -> Result<Arc<EventPoll>, Errno> {
        self.anon_file(epfd, |k| match k {
            Kind::Epoll(ep) => Some(ep.clone()),
            _ => None,
        })
    }

    /// `epoll_ctl(epfd, op, fd, event)`; `event` is (events, data), None
    /// when it could not be read (EFAULT unless the op is DEL).
    pub fn epoll_ctl(
        &self,
        epfd: i32,
        op: i32,
        fd: i32,
        event: Result<(u32, u64), Errno>,
    ) -> Result<(), Errno> {
        let ev = if op == EPOLL_CTL_DEL {
            Ok((0, 0))
        } else {
            event
        };
        let (mut events, data) = ev?;
        let ep_file = self.file(epfd)?;
        let target = self.file(fd)?;
        if ep_file.is_path() || target.is_path() {
            return Err(EBADF);
        }
        if !can_poll(&target) {
            return Err(EPERM);
        }
        if events & EPOLLEXCLUSIVE != 0 {
            if op == EPOLL_CTL_MOD {
                return Err(EINVAL);
            }
            if op == EPOLL_CTL_ADD
                && (matches!(target.kind, Kind::Epoll(_)) || events & !EPOLLEXCLUSIVE_OK_BITS != 0)
            {
                return Err(EINVAL);
            }
        }
        let Kind::Epoll(ep) = &ep_file.kind else {
            return Err(EINVAL);
        };
        if Arc::ptr_eq(&ep_file, &target) {
            return Err(EINVAL);
        }
        events &= !EPOLLWAKEUP;
        if op != EPOLL_CTL_DEL {
            events |= EPOLLERR | EPOLLHUP;
        }
        if op == EPOLL_CTL_ADD {
            if let Kind::Epoll(inner) = &target.kind {
                if inner.reaches(ep, 1) {
                    return Err(ELOOP);
                }
            }
        }
        // Ready now? (`ep_insert` and `ep_modify` put a ready entry on the
        // ready list at once.)
        let ready = op != EPOLL_CTL_DEL
            && poll_file(&target, self, &mut PollTable::default(), 0) & events & !EP_PRIVATE_BITS
                != 0;
        let mut st = ep.lock();
        let key = (fd, Arc::as_ptr(&target) as usize);
        // A dead entry under this key (its file gone) is no entry.
        if let Some(id) = st.index.get(&key).copied() {
            if st.items.get(&id).is_none_or(|i| i.file.strong_count() == 0) {
                ep.purge(&mut st);
                st.index.remove(&key);
            }
        }
        let EpState {
            items,
            index,
            rdllist,
            next_id,
        } = &mut *st;
        let at = index.get(&key).copied();
        let id = match (op, at) {
            (EPOLL_CTL_ADD, Some(_)) => return Err(EEXIST),
            (EPOLL_CTL_ADD, None) => {
                if ep.watches.fetch_add(1, Relaxed) >= MAX_USER_WATCHES {
                    ep.watches.fetch_sub(1, Relaxed);
                    return Err(ENOSPC);
                }
                *next_id += 1;
                items.insert(
                    *next_id,
                    EpItem {
                        id: *next_id,
                        file: Arc::downgrade(&target),
                        events,
                        data,
                        seen: None,
                    },
                );
                index.insert(key, *next_id);
                *next_id
            }
            (EPOLL_CTL_DEL, Some(id)) => {
                ep.watches.fetch_sub(1, Relaxed);
                items.remove(&id);
                index.remove(&key);
                id
            }
            (EPOLL_CTL_MOD, Some(id)) => {
                let item = items.get_mut(&id).ok_or(ENOENT)?;
                if item.events & EPOLLEXCLUSIVE != 0 {
                    return Err(EINVAL);
                }
                item.events = events;
                item.data = data;
                item.seen = None;
                id
            }
            (EPOLL_CTL_DEL | EPOLL_CTL_MOD, None) => return Err(ENOENT),
            _ => return Err(EINVAL),
        };
        // (A second listing of an id is skipped at the next wait; a list
        // grown by adds and deletes without a wait is compacted.)
        if ready {
            rdllist.push(id);
        }
        if rdllist.len() > 2 * items.len() + 64 {
            let mut once = HashSet::new();
            rdllist.retain(|id| items.contains_key(id) && once.insert(*id));
        }
        drop(st);
        // Pollers of this epoll file look again.
        ep.wq.wake_up_all();
        Ok(())
    }
}
