//! What a blob needs of the runtime's cargo features ([`Model::needs`]), and the typed error a
//! pipeline gives for a blob that needs a part the build leaves out.

use crate::format::{Act, Features, FrontEnd, Layout, Output};
use crate::pipeline::{F32Denoiser, I8Denoiser};
use crate::writer::GraphWriter;
use crate::{Error, Feature, Model, Precision};
use std::string::String;
use std::vec;
use std::vec::Vec;

/// The 8 kHz front end: log power of bins 0..128, a gain per bin.
const NARROW: FrontEnd = FrontEnd::DEFAULT;
/// The 16 kHz front end.
const WIDE: FrontEnd = FrontEnd::WIDEBAND;

/// A denoiser of one linear layer on `fe`, its groups of `gs` weights at the widths `widths`
/// (cycled), `gru`: a gru of 64 units before it.
fn blob(fe: FrontEnd, gs: usize, widths: &[u8], gru: bool) -> Vec<u8> {
    let (n_in, n_out) = (usize::from(fe.n_bands), usize::from(fe.bins()));
    let mut g = GraphWriter::new(fe);
    let mut x = g.input();
    if gru {
        let w_x = g.f32_tensor(&vec![0.01; 3 * 64 * n_in]).unwrap();
        let w_h = g.f32_tensor(&vec![0.01; 3 * 64 * 64]).unwrap();
        x = g.gru(x, (w_x, w_h), (None, None), 64).unwrap();
    }
    let n = if gru { 64 } else { n_in };
    let bits: Vec<u8> = (0..n * n_out / gs).map(|i| widths[i % widths.len()]).collect();
    let levels: Vec<u16> = (0..n * n_out).map(|i| (i % 2) as u16).collect();
    let w = g.packed_tensor_in(Layout::Rows, &levels, &bits, gs, (-0.01, 0.01)).unwrap();
    g.linear(x, w, None, n_out, Act::Sigmoid).unwrap();
    g.finish().unwrap()
}

/// A denoiser of two linear layers on the 8 kHz front end, the second's 48 inputs in groups of 48
/// (the first's in groups of 64).
fn blob_48() -> Vec<u8> {
    let (n_in, n_out) = (usize::from(NARROW.n_bands), usize::from(NARROW.bins()));
    let mut g = GraphWriter::new(NARROW);
    let mut x = g.input();
    for (n, m, gs) in [(n_in, 48, 64), (48, n_out, 48)] {
        let bits: Vec<u8> = (0..n * m / gs).map(|i| [2, 4][i % 2]).collect();
        let levels: Vec<u16> = (0..n * m).map(|i| (i % 2) as u16).collect();
        let w = g.packed_tensor_in(Layout::Rows, &levels, &bits, gs, (-0.01, 0.01)).unwrap();
        x = g.linear(x, w, None, m, Act::Sigmoid).unwrap();
    }
    g.finish().unwrap()
}

/// A denoiser of three linear layers on the 8 kHz front end: 128 → 48 in groups of 64, 48 → 48
/// in row-pair groups of 96 (one whole row of each of a pair per group), 48 → 129 at 2 bits
/// (one width: the fixed-width kernel) in groups of 48, as the 16 kHz model's GRUs and mask.
fn blob_96() -> Vec<u8> {
    let (n_in, n_out) = (usize::from(NARROW.n_bands), usize::from(NARROW.bins()));
    let mut g = GraphWriter::new(NARROW);
    let mut x = g.input();
    for (n, m, gs, layout) in [
        (n_in, 48, 64, Layout::Rows),
        (48, 48, 96, Layout::RowPairs { row_len: 48, lanes: false }),
        (48, n_out, 48, Layout::Rows),
    ] {
        let widths: &[u8] = if m == n_out { &[2] } else { &[2, 4] };
        let bits: Vec<u8> = (0..n * m / gs).map(|i| widths[i % widths.len()]).collect();
        let levels: Vec<u16> = (0..n * m).map(|i| (i % 2) as u16).collect();
        let w = g.packed_tensor_in(layout, &levels, &bits, gs, (-0.01, 0.01)).unwrap();
        x = g.linear(x, w, None, m, Act::Sigmoid).unwrap();
    }
    g.finish().unwrap()
}

/// A denoiser of one f32 linear layer on front end `fe` (with its filterbank of `n_bands` bands).
fn band_blob(fe: FrontEnd) -> Vec<u8> {
    let mut g = GraphWriter::new(fe);
    let fb = g.f16_tensor(&crate::dsp::mel_filterbank(8000, usize::from(fe.n_bands))).unwrap();
    g.filterbank(fb);
    let n_in = usize::from(fe.n_bands);
    let n_out = if fe.output == Output::BandGains { n_in } else { usize::from(fe.bins()) };
    let x = g.input();
    let w = g.f32_tensor(&vec![0.01; n_in * n_out]).unwrap();
    g.linear(x, w, None, n_out, Act::Sigmoid).unwrap();
    g.finish().unwrap()
}

fn needs(b: &[u8], path: Precision) -> Vec<Feature> {
    let m = Model::parse(b).unwrap();
    Feature::ALL.into_iter().filter(|&f| m.needs(f, path)).collect()
}

#[test]
fn a_blob_needs_the_features_of_its_front_end_tensors_and_ops() {
    // Every blob here is a graph (version 5): each needs the graph interpreter.
    let mixed = blob(NARROW, 64, &[2, 3], false);
    assert_eq!(needs(&mixed, Precision::F32), [Feature::Graph]);
    assert_eq!(needs(&mixed, Precision::Int), [Feature::Graph]);
    // One width for every group: the f32 path's own kernel of that width (`fixed-N`); the
    // integer path runs it either way.
    let fixed = blob(NARROW, 64, &[3], false);
    assert_eq!(needs(&fixed, Precision::F32), [Feature::Graph, Feature::Fixed3]);
    assert_eq!(needs(&fixed, Precision::Int), [Feature::Graph]);
    assert_eq!(needs(&blob(NARROW, 16, &[2, 4], false), Precision::Int), [Feature::AnyGroupSize, Feature::Graph]);
    // Groups of 48 take their own unrolled copy, not the run-time loops of other sizes.
    assert_eq!(needs(&blob_48(), Precision::Int), [Feature::Group48, Feature::Graph]);
    // Row-pair groups of 96 their own; a tensor of one width in groups of 48 runs on its
    // fixed-width kernel (this build has `fixed-2`), which no group size's copy serves.
    assert_eq!(needs(&blob_96(), Precision::Int), [Feature::Group96, Feature::Graph]);
    assert_eq!(needs(&blob_96(), Precision::F32), [Feature::Group96, Feature::Graph, Feature::Fixed2]);
    assert_eq!(needs(&blob(WIDE, 64, &[2, 3], false), Precision::Int), [Feature::Wideband, Feature::Graph]);
    // Log-mel features or band gains: the filterbank front end.
    for (features, output, n_bands) in
        [(Features::LogMel, Output::BinGains, 16), (Features::LogPower, Output::BandGains, 128)]
    {
        let b = band_blob(FrontEnd { features, output, n_bands, ..NARROW });
        assert_eq!(needs(&b, Precision::Int), [Feature::Bands, Feature::Graph], "{features:?} {output:?}");
    }
    assert_eq!(
        needs(&blob(NARROW, 16, &[2, 3], true), Precision::F32),
        [Feature::AnyGroupSize, Feature::Gru, Feature::Graph]
    );
}

#[test]
fn a_blob_runs_fastest_with_the_bodies_of_its_widths_and_one_width_with_the_fixed_width_kernels() {
    let fastest = |b: &[u8], path| -> Vec<Feature> {
        let m = Model::parse(b).unwrap();
        Feature::ALL.into_iter().filter(|&f| m.runs_fastest_with(f, path)).collect()
    };
    let fixed = blob(NARROW, 64, &[3], false);
    assert_eq!(fastest(&fixed, Precision::Int), [Feature::Graph, Feature::Width3, Feature::Fixed3]);
    assert_eq!(fastest(&fixed, Precision::F32), [Feature::Graph, Feature::Width3, Feature::Fixed3]);
    let mixed = blob(WIDE, 16, &[2, 3], true);
    let mut want = needs(&mixed, Precision::Int);
    want.extend([Feature::Width2, Feature::Width3, Feature::Rows]);
    assert_eq!(fastest(&mixed, Precision::Int), want, "mixed widths: what it needs, its widths' and layout's bodies");
    let wide = blob(NARROW, 64, &[1, 5, 8], false);
    let want = [Feature::Graph, Feature::Width1, Feature::Width5, Feature::Width8, Feature::Rows];
    assert_eq!(fastest(&wide, Precision::F32), want);
    let b96 = blob_96();
    let pairs = Model::parse(&b96).unwrap();
    let layouts =
        [Feature::Rows, Feature::RowPairs, Feature::LanePairs].map(|f| pairs.runs_fastest_with(f, Precision::Int));
    assert_eq!(layouts, [true, true, false], "mixed widths in rows and in row pairs; one width in rows");
    // A width of mixed-width groups is never needed: without its bodies its groups run on the
    // any-width body.
    assert_eq!(needs(&wide, Precision::F32), [Feature::Graph]);
}

#[test]
fn every_feature_has_its_cargo_name() {
    let names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
    let widths: Vec<String> = (1..=8).map(|b| std::format!("width-{b}")).collect();
    let fixed: Vec<String> = (1..=8).map(|b| std::format!("fixed-{b}")).collect();
    assert_eq!(
        names[..10],
        [
            "any-group-size",
            "group-48",
            "group-96",
            "wideband",
            "bands",
            "grouped-conv",
            "gru",
            "conv2d",
            "pool",
            "graph"
        ]
    );
    assert_eq!(names[10..18], widths);
    assert_eq!(names[18..21], ["rows", "row-pairs", "lane-pairs"]);
    assert_eq!(names[21..], fixed);
    assert!((1..=8).all(|b| Feature::width(b).map(Feature::name) == Some(widths[usize::from(b) - 1].as_str())));
    assert!((1..=8).all(|b| Feature::fixed(b).map(Feature::name) == Some(fixed[usize::from(b) - 1].as_str())));
    assert_eq!((Feature::width(0), Feature::width(9), Feature::fixed(0), Feature::fixed(9)), (None, None, None, None));
    let e = std::format!("{}", Error::MissingFeature(Feature::Wideband));
    assert!(e.contains("`wideband`") && e.contains("leaves out"), "{e}");
}

#[test]
fn a_pipeline_refuses_a_blob_that_needs_a_feature_this_build_lacks() {
    let wide = blob(WIDE, 64, &[2, 3], false);
    let m = Model::parse(&wide).unwrap();
    let (mut a, mut s) = (vec![0.0f32; 1 << 16], vec![0.0f32; 1 << 16]);
    let e = F32Denoiser::<i16>::new(m, &mut a, &mut s).err();
    if Feature::Wideband.enabled() {
        assert_eq!(m.check_features(Precision::F32), Ok(()));
        assert_eq!(e, Some(Error::FrameMismatch { blob: 512, pipeline: 256 }));
    } else {
        assert_eq!(m.check_features(Precision::F32), Err(Error::MissingFeature(Feature::Wideband)));
        assert_eq!(e, Some(Error::MissingFeature(Feature::Wideband)));
    }
    let gru = blob(NARROW, 64, &[2, 3], true);
    let m = Model::parse(&gru).unwrap();
    let (mut ai, mut si) = (vec![0i8; 1 << 16], vec![0i8; 1 << 16]);
    let e = I8Denoiser::new(m, &mut ai, &mut si).err();
    if Feature::Gru.enabled() {
        assert_eq!(e, Some(Error::NoIntegerPath));
    } else {
        assert_eq!(e, Some(Error::MissingFeature(Feature::Gru)));
    }
    let bands = band_blob(FrontEnd { features: Features::LogMel, n_bands: 16, ..NARROW });
    let m = Model::parse(&bands).unwrap();
    let e = F32Denoiser::<i16>::new(m, &mut a, &mut s).err();
    if Feature::Bands.enabled() {
        assert_eq!(e, None);
    } else {
        assert_eq!(e, Some(Error::MissingFeature(Feature::Bands)));
    }
}
