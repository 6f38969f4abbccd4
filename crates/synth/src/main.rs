//! `synth samples DIR` writes the committed sample bundle; `synth bench DIR [--mb N] [--files N]
//! [--seed N]` writes a large bench corpus and prints the BITS event counts it holds.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: synth samples DIR\n       synth bench DIR [--mb 400] [--files 12] [--seed 1]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synth: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (cmd, rest) = args.split_first().ok_or(USAGE)?;
    let (dir, flags) = rest.split_first().ok_or(USAGE)?;
    let dir = PathBuf::from(dir);
    match cmd.as_str() {
        "samples" => {
            if !flags.is_empty() {
                return Err(USAGE.into());
            }
            let s = synth::write_bundle(&synth::samples::scenario(), &dir)
                .map_err(|e| e.to_string())?;
            for h in &s.hosts {
                println!(
                    "{:<12} {:<26} Bits-Client records {:>4}  System records {:>4}",
                    h.folder, h.name, h.bits_records, h.system_records
                );
            }
            println!("{} files written under {}", s.files.len(), dir.display());
            Ok(())
        }
        "bench" => {
            let (mut mb, mut files, mut seed) = (400u64, 12u32, 1u64);
            let mut it = flags.iter();
            while let Some(f) = it.next() {
                let v = it.next().ok_or(USAGE)?;
                let bad = |_| format!("{f}: not a number: {v}");
                match f.as_str() {
                    "--mb" => mb = v.parse().map_err(bad)?,
                    "--files" => files = v.parse().map_err(bad)?,
                    "--seed" => seed = v.parse().map_err(bad)?,
                    _ => return Err(USAGE.into()),
                }
            }
            let s = synth::bench::write_bench(&dir, mb, files, seed).map_err(|e| e.to_string())?;
            println!(
                "{} files, {:.1} MB, {} records under {}",
                s.files.len(),
                s.bytes as f64 / 1_048_576.0,
                s.records,
                dir.display()
            );
            println!("BITS jobs: {} ({} failing)", s.jobs, s.failing_jobs);
            let list = |m: &std::collections::BTreeMap<u16, u64>| {
                m.iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            println!("Bits-Client events: {}", list(&s.bits_events));
            println!("SCM events about BITS: {}", list(&s.scm_bits_events));
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}
