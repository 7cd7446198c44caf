//! The machine part of the command line, checked before anything boots:
//! what `parse_early_param()` (init/main.c) does for `mem=` and `nr_cpus=`.

use mm::mem::{MIN_RAM, NR_CPUS};

use kernel::boot::Machine;
use kernel::size::parse_mem;

/// Turn `--mem`, `--cpus` and `--slab-debug` into a [`Machine`], or say
/// which argument is wrong.
pub fn machine(mem: &str, cpus: usize, slab_debug: bool) -> Result<Machine, String> {
    let mem_bytes = parse_mem(mem, MIN_RAM).map_err(|e| format!("--mem {mem} {e}"))?;
    if !(1..=NR_CPUS).contains(&cpus) {
        return Err(format!(
            "--cpus {cpus} is out of range: ferrite runs 1 to {NR_CPUS} CPUs"
        ));
    }
    Ok(Machine {
        mem_bytes,
        nr_cpus: cpus,
        slab_debug,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_machine() {
        let m = machine("64M", 2, true).unwrap();
        assert_eq!(
            m,
            Machine {
                mem_bytes: 64 << 20,
                nr_cpus: 2,
                slab_debug: true
            }
        );
    }

    #[test]
    fn messages_name_the_argument() {
        assert_eq!(
            machine("1M", 1, false).unwrap_err(),
            "--mem 1M is too small: ferrite needs at least 4M"
        );
        assert!(machine("abc", 1, false)
            .unwrap_err()
            .starts_with("--mem abc is not a size"));
        assert_eq!(
            machine("64M", 0, false).unwrap_err(),
            "--cpus 0 is out of range: ferrite runs 1 to 64 CPUs"
        );
        assert!(machine("64M", 65, false).is_err());
        assert!(machine("64M", 64, false).is_ok());
    }
}
