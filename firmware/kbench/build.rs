//! Writes one blob per benchmark (shape × bit width) into OUT_DIR with the runtime's own
//! writers: single layers (`BlobWriter`) and small graphs of the graph ops (`GraphWriter`: two
//! grus, one in row-pair groups of 96 as the 16 kHz model's, a depthwise conv1d, a
//! depthwise-separable block, two conv2d), and a `benches.rs` that puts them in flash.
//!
//! The "mixed" layer takes its per-group bit widths from the trained model (`DQ_MODEL`, else
//! `models/conv8k.dqem`: its largest variable-bit tensor, tiled, with that tensor's group size
//! and layout); without one it falls back to a fixed pseudo-random mix of 2–5 bits (mean 3.3),
//! row-pair groups of 64, and says so in the benchmark's name. The same widths also fill a
//! 48x144 layer at groups of 48 and a 256x256 one at groups of 16 (group sizes other than 64).
use runtime::format::{Act, Features, FrontEnd, Layout, Output};
use runtime::writer::{BlobWriter, ConvSpec, GraphCalibration, GraphWriter, IntCalibration, TensorId};
use runtime::{Model, Weights};
use std::path::{Path, PathBuf};

const GROUP: usize = 16;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
}

/// How the benchmarked mixed layer is grouped: its per-group widths, group size, row pairs
/// (stored as lane pairs with `lanes`).
struct Mix {
    bits: Vec<u8>,
    group: usize,
    pairs: bool,
    lanes: bool,
}

/// Per-group bit widths of the largest variable-bit tensor of a trained model.
fn trained_bits(root: &Path) -> Option<(Mix, String)> {
    let path = std::env::var("DQ_MODEL").map(PathBuf::from).unwrap_or_else(|_| root.join("models/conv8k.dqem"));
    let path = if path.is_absolute() { path } else { root.join(path) };
    println!("cargo:rerun-if-changed={}", path.display());
    let blob = std::fs::read(&path).ok()?;
    let m = Model::parse(&blob).ok()?;
    let mut best: Option<Mix> = None;
    for i in 0..m.n_tensors() {
        if let Ok(Weights::Packed(p)) = m.tensor(i).map(|t| t.weights) {
            if p.fixed_bits().is_none() && p.n_groups() > best.as_ref().map_or(0, |b| b.bits.len()) {
                best = Some(Mix {
                    bits: (0..p.n_groups()).map(|g| p.group_bits(g)).collect(),
                    group: usize::from(p.group_size),
                    pairs: p.layout != Layout::Rows,
                    lanes: false,
                });
            }
        }
    }
    best.map(|b| (b, "trained".to_string()))
}

/// Writes `blob` to `file` and returns its line of the `BENCHES` table.
fn bench_entry(file: &Path, blob: &[u8], shape: &str, label: &str, steps: u32) -> Result<String, String> {
    std::fs::write(file, blob).map_err(|e| e.to_string())?;
    Ok(format!(
        "    ({shape:?}, {label:?}, {steps}, &WordAligned(*include_bytes!({:?})).0),\n",
        file.display().to_string()
    ))
}

fn layer_blob(conv: bool, n_in: usize, n_out: usize, mix: &Mix, rng: &mut Lcg) -> Result<Vec<u8>, String> {
    let (bits, group) = (&mix.bits, mix.group);
    let k = if conv { 3 } else { 1 };
    let count = n_in * n_out * k;
    let group_bits: Vec<u8> = (0..count / group).map(|g| bits.get(g % bits.len()).copied().unwrap_or(3)).collect();
    let levels: Vec<u16> = group_bits
        .iter()
        .flat_map(|&b| (0..group).map(|_| (rng.next() % (1u32 << b)) as u16).collect::<Vec<_>>())
        .collect();
    let e = |e: runtime::writer::WriteError| e.to_string();
    let mut w = BlobWriter::new(n_in);
    let bound = (3.0 / (n_in * k) as f32).sqrt();
    let layout =
        if mix.pairs { Layout::RowPairs { row_len: (n_in * k) as u16, lanes: mix.lanes } } else { Layout::Rows };
    let t = w.packed_tensor_in(layout, &levels, &group_bits, group, -bound, bound).map_err(e)?;
    let bias = w.f32_tensor(&vec![0.01; n_out]).map_err(e)?;
    if conv { w.conv1d(t, Some(bias), n_in, n_out, 3, 1) } else { w.linear(t, Some(bias), n_in, n_out) }.map_err(e)?;
    w.finish_with_int(&IntCalibration { input_scale: 1.0 / 127.0, out_scales: vec![1.0 / 127.0] }).map_err(e)
}

/// Packed weights of `count` values in groups of `mix.group` (row layout), widths from `mix`.
fn packed(g: &mut GraphWriter, count: usize, fan_in: usize, mix: &Mix, rng: &mut Lcg) -> Result<TensorId, String> {
    let group = if count.is_multiple_of(mix.group) { mix.group } else { 8 };
    packed_in(g, Layout::Rows, (count, group), fan_in, mix, rng)
}

/// Packed weights of `count` values in `layout`, groups of `group`, widths from `mix`.
fn packed_in(
    g: &mut GraphWriter,
    layout: Layout,
    (count, group): (usize, usize),
    fan_in: usize,
    mix: &Mix,
    rng: &mut Lcg,
) -> Result<TensorId, String> {
    let bits: Vec<u8> = (0..count / group).map(|i| mix.bits.get(i % mix.bits.len()).copied().unwrap_or(3)).collect();
    let levels: Vec<u16> =
        bits.iter().flat_map(|&b| (0..group).map(|_| (rng.next() % (1u32 << b)) as u16).collect::<Vec<_>>()).collect();
    let bound = (3.0 / fan_in as f32).sqrt();
    g.packed_tensor_in(layout, &levels, &bits, group, (-bound, bound)).map_err(|e| e.to_string())
}

/// A graph bench's input: `n` log-mel bands (an all-zero filterbank in flash, which a bench does
/// not read), class scores out; one channel of `n` rows for a conv2d graph.
fn graph_writer(n: u16, two_d: bool) -> Result<GraphWriter, String> {
    let fe = FrontEnd { features: Features::LogMel, n_bands: n, output: Output::Scores, ..FrontEnd::DEFAULT };
    let mut g = if two_d { GraphWriter::new_2d(fe) } else { GraphWriter::new(fe) };
    let fb = g.f16_tensor(&vec![0.0; usize::from(n) * usize::from(fe.bins())]).map_err(|e| e.to_string())?;
    g.filterbank(fb);
    Ok(g)
}

/// A graph bench: its shape's name, the frames one run steps, the blob.
type GraphBench = (&'static str, u32, Vec<u8>);

/// The graph-op benches for the widths of `mix`.
fn graph_blobs(mix: &Mix, rng: &mut Lcg) -> Result<Vec<GraphBench>, String> {
    let e = |e: runtime::writer::WriteError| e.to_string();
    let spec = |out_c, kernel, groups, act| ConvSpec { out_c, kernel, dilation: 1, groups, act };
    let mut out = Vec::new();
    // GRU, 64 inputs, 64 units.
    let mut g = graph_writer(64, false)?;
    let (wx, wh) = (packed(&mut g, 192 * 64, 64, mix, rng)?, packed(&mut g, 192 * 64, 64, mix, rng)?);
    g.gru(g.input(), (wx, wh), (None, None), 64).map_err(e)?;
    out.push(("gru 64x64", 1, finish(g, 1)?));
    // GRU, 48 inputs, 48 units, in row-pair groups of 96 (one whole row of each pair), the shape
    // and grouping of the 16 kHz model's GRUs.
    let mut g = graph_writer(48, false)?;
    let pairs = Layout::RowPairs { row_len: 48, lanes: false };
    let wx = packed_in(&mut g, pairs, (144 * 48, 96), 48, mix, rng)?;
    let wh = packed_in(&mut g, pairs, (144 * 48, 96), 48, mix, rng)?;
    g.gru(g.input(), (wx, wh), (None, None), 48).map_err(e)?;
    out.push(("gru 48x48 g96 pairs", 1, finish(g, 1)?));
    // Depthwise conv1d, 64 channels, 3 taps.
    let mut g = graph_writer(64, false)?;
    let w = packed(&mut g, 64 * 3, 3, mix, rng)?;
    g.conv1d(g.input(), w, None, spec(64, 3, 64, Act::None)).map_err(e)?;
    out.push(("dwconv 64 k3 x32", 32, finish(g, 1)?));
    // Depthwise-separable residual block 64 -> 64: depthwise k3 + relu, pointwise, add.
    let mut g = graph_writer(64, false)?;
    let (dw, pw) = (packed(&mut g, 64 * 3, 3, mix, rng)?, packed(&mut g, 64 * 64, 64, mix, rng)?);
    let d = g.conv1d(g.input(), dw, None, spec(64, 3, 64, Act::Relu)).map_err(e)?;
    let p = g.conv1d(d, pw, None, spec(64, 1, 1, Act::None)).map_err(e)?;
    g.add(g.input(), p).map_err(e)?;
    out.push(("ds block 64 k3 x32", 32, finish(g, 3)?));
    // conv2d 3x3 (time x frequency) 8 -> 16 channels on 32 rows (output rows at stride 2), fed
    // by a 1x3 conv2d 1 -> 8 (its 576 MACs are 8% of the frame's).
    let mut g = graph_writer(32, true)?;
    let (w1, w2) = (packed(&mut g, 8 * 3, 3, mix, rng)?, packed(&mut g, 16 * 9 * 8, 72, mix, rng)?);
    let a = g.conv2d(g.input(), (w1, None), spec(8, 1, 1, Act::Relu), (3, 1)).map_err(e)?;
    g.conv2d(a, (w2, None), spec(16, 3, 1, Act::None), (3, 2)).map_err(e)?;
    out.push(("conv2d 1x3 1-8, 3x3/2 8-16, 32x10", 10, finish(g, 2)?));
    Ok(out)
}

/// A bench graph with integer constants (every value at scale 1/16).
fn finish(g: GraphWriter, nodes: usize) -> Result<Vec<u8>, String> {
    let calib =
        GraphCalibration { input_scale: 1.0 / 16.0, out_scales: vec![1.0 / 16.0; nodes], pre_act_scales: vec![] };
    g.finish_with_int(&calib).map_err(|e| e.to_string())
}

fn main() -> Result<(), String> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = dir.join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    println!("cargo:rerun-if-env-changed=DQ_MODEL");
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("riscv")) {
        println!("cargo:rustc-link-arg=-Tmemory.x"); // riscv-rt wants the memory map first
    }
    println!("cargo:rustc-link-arg=-Tlink.x");
    println!("cargo:rustc-link-arg=-Tdefmt.x");
    let (mixed, origin) = trained_bits(&root).unwrap_or_else(|| {
        let mut r = Lcg(7);
        let mix = (0..1024)
            .map(|_| match r.next() % 10 {
                0..=1 => 2,
                2..=5 => 3,
                6..=8 => 4,
                _ => 5,
            })
            .collect();
        let mix = Mix { bits: mix, group: 64, pairs: true, lanes: false };
        (mix, "synthetic".to_string())
    });
    // DQ_KBENCH_GROUP=N: benchmark the mixed layer with N-value groups (same widths, tiled).
    println!("cargo:rerun-if-env-changed=DQ_KBENCH_GROUP");
    let mut mixed = mixed;
    if let Some(g) = std::env::var("DQ_KBENCH_GROUP").ok().and_then(|v| v.parse().ok()) {
        mixed.group = g;
    }
    let mean = mixed.bits.iter().map(|&b| f64::from(b)).sum::<f64>() / mixed.bits.len().max(1) as f64;
    let shapes =
        [("linear 256x256", false, 256, 256), ("linear 512x128", false, 512, 128), ("conv 64x64 k3 x32", true, 64, 64)];
    let mut rng = Lcg(1);
    let mut list = String::from("pub static BENCHES: &[(&str, &str, u32, &[u8])] = &[\n");
    for (si, (shape, conv, n_in, n_out)) in shapes.iter().enumerate() {
        let mut widths: Vec<(String, Mix)> = [2u8, 3, 4, 6, 8]
            .iter()
            .map(|b| {
                let fixed = Mix { bits: vec![*b], group: GROUP, pairs: false, lanes: false };
                (format!("{b}"), fixed)
            })
            .collect();
        let pairs = if mixed.pairs { "pairs" } else { "rows" };
        let label = format!("mixed-{origin}-{mean:.2}-g{}-{pairs}", mixed.group);
        widths.push((label, Mix { bits: mixed.bits.clone(), ..mixed }));
        if mixed.pairs && mixed.group % 64 == 0 {
            // The same groups stored as lane pairs (FORMAT.md layout 2).
            let label = format!("mixed-{origin}-{mean:.2}-g{}-lanes", mixed.group);
            widths.push((label, Mix { bits: mixed.bits.clone(), lanes: true, ..mixed }));
        }
        for (bi, (label, mix)) in widths.iter().enumerate() {
            let blob = layer_blob(*conv, *n_in, *n_out, mix, &mut rng)?;
            let steps = if *conv { 32 } else { 1 };
            list.push_str(&bench_entry(&out.join(format!("bench_{si}_{bi}.dqem")), &blob, shape, label, steps)?);
        }
    }
    // One width stored as lane pairs (FORMAT.md layout 2, groups of 64): each row pair one run
    // of blocks of the same width (its own random levels, so the rows above keep theirs).
    let mut lane_rng = Lcg(3);
    for (si, (shape, conv, n_in, n_out)) in shapes.iter().enumerate() {
        let mix = Mix { bits: vec![3], group: 64, pairs: true, lanes: true };
        let blob = layer_blob(*conv, *n_in, *n_out, &mix, &mut lane_rng)?;
        let steps = if *conv { 32 } else { 1 };
        let file = out.join(format!("bench_lanes_{si}.dqem"));
        list.push_str(&bench_entry(&file, &blob, shape, "3-g64-lanes", steps)?);
    }
    // The same widths at other group sizes (the kernels' chunked bodies; 64 unrolls fully): a GRU
    // gate product at groups of 48 and 256x256 at groups of 16.
    let (pairs, mut group_rng) = (if mixed.pairs { "pairs" } else { "rows" }, Lcg(2));
    for (ei, (shape, n_in, n_out, group)) in
        [("linear 48x144", 48, 144, 48), ("linear 256x256", 256, 256, 16)].iter().enumerate()
    {
        let mix = Mix { bits: mixed.bits.clone(), group: *group, pairs: mixed.pairs, lanes: false };
        let blob = layer_blob(false, *n_in, *n_out, &mix, &mut group_rng)?;
        let label = format!("mixed-{origin}-{mean:.2}-g{group}-{pairs}");
        list.push_str(&bench_entry(&out.join(format!("bench_group_{ei}.dqem")), &blob, shape, &label, 1)?);
    }
    let label = format!("mixed-{origin}-{mean:.2}");
    for (bi, (label, mix)) in
        [("3".to_string(), Mix { bits: vec![3], group: 64, pairs: false, lanes: false }), (label, mixed)]
            .iter()
            .enumerate()
    {
        for (gi, (shape, steps, blob)) in graph_blobs(mix, &mut rng)?.into_iter().enumerate() {
            list.push_str(&bench_entry(&out.join(format!("graph_{gi}_{bi}.dqem")), &blob, shape, label, steps)?);
        }
    }
    list.push_str("];\n");
    std::fs::write(out.join("benches.rs"), list).map_err(|e| e.to_string())?;
    Ok(())
}
