//! The evtx path and the whole pipeline on generated data (the synth bench generator: mostly
//! Security-log noise, a few percent BITS), reported as throughput.
//!
//!     cargo bench --bench pipeline

use bitsdoctor::app::{analyze, Config};
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::parse::evtx::{parse, Reader};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn pipeline(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = synth::bench::write_bench(dir.path(), 32, 2, 7).expect("bench data");
    let kb = Knowledge::builtin();
    let first = std::fs::read(&summary.files[0]).expect("bench file");

    let mut g = c.benchmark_group("evtx");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(first.len() as u64));
    for (name, reader) in [("fast", Reader::Fast), ("full", Reader::Full)] {
        g.bench_function(name, |b| {
            b.iter(|| parse(black_box(&first), "bench.evtx", reader).map(|o| o.records))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(summary.bytes));
    for threads in [1, 2] {
        let cfg = Config {
            paths: vec![dir.path().to_path_buf()],
            threads,
            ..Default::default()
        };
        g.bench_function(format!("{threads}-threads"), |b| {
            b.iter(|| analyze(black_box(&cfg), &kb).map(|r| r.summary.jobs))
        });
    }
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
