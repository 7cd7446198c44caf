mod common;
use common::*;
#[test]
fn big() {
    let mut env = Env::new(1);
    let elf = std::fs::read("/tmp/rvq/c/big").unwrap();
    let mut h = elf::load(&mut env, &elf);
    let out = elf::run_to_exit(&mut env, &mut h);
    print!("{}", String::from_utf8(out).unwrap());
    println!("instret {}", h.instret());
}
