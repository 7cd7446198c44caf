//! Reaching user memory: copy_to_user/copy_from_user across page
//! boundaries (faulting pages in), strncpy_from_user, clear_user, EFAULT on
//! unmapped, forbidden and kernel addresses, and the simulated access.

mod common;

use mm::fault::{Access, FaultError};
use mm::mmap::*;
use mm::uaccess::*;
use mm::PAGE_SIZE;

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE: usize = 0x2000_0000;

#[test]
fn copies_cross_page_boundaries_and_fault_pages_in() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
        let data: Vec<u8> = (0..6000u32).map(|i| (i * 7 + 3) as u8).collect();
        copy_to_user(&cpu, &mm, BASE + P - 100, &data).unwrap();
        // Pages 0, 1 and 2 were touched.
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 3);
        let mut back = vec![0u8; 6000];
        copy_from_user(&cpu, &mm, &mut back, BASE + P - 100).unwrap();
        assert_eq!(back, data);
        // Reading untouched memory faults in the zero page only.
        let mut z = vec![1u8; P];
        copy_from_user(&cpu, &mm, &mut z, BASE + 3 * P).unwrap();
        assert!(z.iter().all(|&b| b == 0));
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 3);
        clear_user(&cpu, &mm, BASE + P - 10, 20).unwrap();
        copy_from_user(&cpu, &mm, &mut back[..30], BASE + P - 15).unwrap();
        assert_eq!(&back[..5], &data[85..90]);
        assert!(back[5..25].iter().all(|&b| b == 0));
        assert_eq!(&back[25..30], &data[110..115]);
        // Zero-length copies succeed anywhere.
        copy_to_user(&cpu, &mm, 0, &[]).unwrap();
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn bad_addresses_are_efault_not_panics() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED).unwrap();
        mm.do_mmap(&cpu, BASE + 2 * P, P, PROT_READ, ANON | MAP_FIXED)
            .unwrap();
        mm.do_mmap(&cpu, BASE + 3 * P, P, PROT_NONE, ANON | MAP_FIXED)
            .unwrap();
        let mut buf = [0u8; 64];
        let e = Err(EFAULT);
        assert_eq!(copy_from_user(&cpu, &mm, &mut buf, BASE - P), e);
        assert_eq!(copy_to_user(&cpu, &mm, BASE + 5 * P, &buf), e);
        // Runs off the end of the writable part.
        assert_eq!(copy_to_user(&cpu, &mm, BASE + 2 * P - 8, &buf), e);
        // The bytes before the bad page were written.
        let mut head = [1u8; 8];
        copy_from_user(&cpu, &mm, &mut head, BASE + 2 * P - 8).unwrap();
        assert_eq!(head, [0; 8]);
        assert_eq!(copy_to_user(&cpu, &mm, BASE + 2 * P, &buf), e);
        copy_from_user(&cpu, &mm, &mut buf, BASE + 2 * P).unwrap();
        assert_eq!(copy_from_user(&cpu, &mm, &mut buf, BASE + 3 * P), e);
        assert_eq!(clear_user(&cpu, &mm, BASE + 3 * P, 1), e);
        // Kernel half, non-canonical, wrapping.
        assert_eq!(copy_from_user(&cpu, &mm, &mut buf, 1 << 47), e);
        assert_eq!(copy_from_user(&cpu, &mm, &mut buf, usize::MAX - 10), e);
        assert_eq!(copy_to_user(&cpu, &mm, (1 << 47) - 8, &buf), e);
        let mut s = [0u8; 16];
        assert_eq!(strncpy_from_user(&cpu, &mm, &mut s, 0x10), Err(EFAULT));
        assert_eq!(
            user_access(&cpu, &mm, BASE + 2 * P, 4, Access::Write),
            Err(FaultError::AccErr)
        );
        assert_eq!(
            user_access(&cpu, &mm, BASE, 4, Access::Exec),
            Err(FaultError::AccErr)
        );
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 1);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn strncpy_from_user_stops_at_nul_or_limit() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED).unwrap();
        // "hello" straddling the page boundary.
        let at = BASE + P - 3;
        copy_to_user(&cpu, &mm, at, b"hello\0junk").unwrap();
        let mut s = [0xffu8; 32];
        assert_eq!(strncpy_from_user(&cpu, &mm, &mut s, at), Ok(5));
        assert_eq!(&s[..6], b"hello\0");
        assert_eq!(s[6], 0xff);
        // No NUL within the limit: the limit.
        let mut s4 = [0u8; 4];
        assert_eq!(strncpy_from_user(&cpu, &mm, &mut s4, at), Ok(4));
        assert_eq!(&s4, b"hell");
        // A string that runs into an unmapped page.
        let end = BASE + 2 * P - 4;
        copy_to_user(&cpu, &mm, end, b"abcd").unwrap();
        assert_eq!(strncpy_from_user(&cpu, &mm, &mut s, end), Err(EFAULT));
        // ... but a NUL before the end is fine.
        copy_to_user(&cpu, &mm, end, b"ab\0d").unwrap();
        assert_eq!(strncpy_from_user(&cpu, &mm, &mut s, end), Ok(2));
        // An empty buffer reads nothing.
        assert_eq!(strncpy_from_user(&cpu, &mm, &mut [], 0), Ok(0));
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn user_access_faults_then_retries_like_the_mmu() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 3 * P, RW, ANON | MAP_FIXED).unwrap();
        // An 8-byte store across a boundary faults both pages in.
        user_store(&cpu, &mm, BASE + P - 4, &[9; 8]).unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 2);
        user_access(&cpu, &mm, BASE + 2 * P, P, Access::Read).unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 2);
        user_access(&cpu, &mm, BASE + 2 * P, 1, Access::Write).unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 3);
        assert!(access_ok(BASE, P) && !access_ok(usize::MAX, 2));
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

/// Every kernel store into user memory is reported to the store hook (the
/// harts' decoded-code coherence), page by page with the physical address
/// in the page's frame; loads are not.
#[test]
fn stores_are_reported_to_the_store_hook() {
    use std::sync::{Arc, Mutex};
    let (k, before) = common::boot_vm();
    let seen: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let s2 = seen.clone();
    k.mem
        .set_store_hook(Box::new(move |pa, len| s2.lock().unwrap().push((pa, len))));
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
        let data = vec![0x5au8; 2 * P];
        copy_to_user(&cpu, &mm, BASE + P - 100, &data).unwrap();
        let got = std::mem::take(&mut *seen.lock().unwrap());
        let lens: Vec<usize> = got.iter().map(|&(_, n)| n).collect();
        assert_eq!(lens, [100, P, P - 100]);
        assert_eq!(got[0].0 % P, P - 100);
        assert_eq!(got[1].0 % P, 0);
        assert!(got.iter().all(|&(pa, n)| pa + n <= k.mem.nr_pages() * P));
        let mut back = vec![0u8; 2 * P];
        copy_from_user(&cpu, &mm, &mut back, BASE + P - 100).unwrap();
        assert!(seen.lock().unwrap().is_empty(), "loads are not stores");
        clear_user(&cpu, &mm, BASE + 3 * P + 8, 16).unwrap();
        let got = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].0 % P, got[0].1), (8, 16));
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}
