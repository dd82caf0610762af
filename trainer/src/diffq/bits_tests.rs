use super::*;
use crate::diffq::DiffqError;
use candle_core::{DType, Device, Var};

fn cfg() -> DiffqConfig {
    DiffqConfig::default()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn bits_mapping_hand_values() {
    let dev = Device::Cpu;
    let c = cfg();
    // logit 0 -> sigmoid 0.5 -> 2 + 0.5*13 = 8.5; rel step 1/(2^8.5 - 1)
    let l = Tensor::new(&[0.0f64, 100.0, -100.0], &dev).unwrap();
    let (b, rel) = bits_and_rel_step(&l, &c).unwrap();
    let b = b.to_vec1::<f64>().unwrap();
    let rel = rel.to_vec1::<f64>().unwrap();
    assert!(close(b[0], 8.5, 1e-12));
    assert!(close(b[1], 15.0, 1e-12));
    assert!(close(b[2], 2.0, 1e-12));
    assert!(close(rel[0], 1.0 / (2f64.powf(8.5) - 1.0), 1e-12));
    assert!(close(rel[2], 1.0 / 3.0, 1e-12));
}

#[test]
fn init_logit_gives_init_bits_in_both_params() {
    let dev = Device::Cpu;
    for param in [BitsParam::Bits, BitsParam::Noise] {
        let c = DiffqConfig { param, ..cfg() };
        let l = Tensor::new(&[f64::from(init_logit(&c))], &dev).unwrap();
        let b = bits(&l, &c).unwrap().to_vec1::<f64>().unwrap();
        assert!(close(b[0], 8.0, 1e-6), "{param:?}: {}", b[0]);
    }
}

/// `--freeze-bits` snaps each logit to its rounded width: every integral width, the range's
/// ends included, maps back to itself in both parametrisations.
#[test]
fn logit_of_bits_inverts_the_mapping() {
    let dev = Device::Cpu;
    for param in [BitsParam::Bits, BitsParam::Noise] {
        let c = DiffqConfig { param, ..cfg() };
        for want in 2..=15 {
            let l = Tensor::new(&[f64::from(logit_of_bits(f64::from(want), &c))], &dev).unwrap();
            let b = bits(&l, &c).unwrap().to_vec1::<f64>().unwrap();
            assert!(close(b[0], f64::from(want), 1e-5), "{param:?} {want}: {}", b[0]);
        }
    }
}

#[test]
fn noise_param_endpoints_and_consistency() {
    let dev = Device::Cpu;
    let c = DiffqConfig { param: BitsParam::Noise, ..cfg() };
    let l = Tensor::new(&[-100.0f64, 100.0, 0.3], &dev).unwrap();
    let (b, rel) = bits_and_rel_step(&l, &c).unwrap();
    let b = b.to_vec1::<f64>().unwrap();
    let rel = rel.to_vec1::<f64>().unwrap();
    assert!(close(b[0], 2.0, 1e-9) && close(b[1], 15.0, 1e-9));
    // rel step and bits agree: rel = 1/(2^b - 1)
    assert!(close(rel[2], rel_step_of_bits(b[2]), 1e-12));
}

#[test]
fn noise_scale_hand_value() {
    let dev = Device::Cpu;
    // range = 3 - (-1) = 4; logit 0 -> 8.5 bits
    let w = Tensor::new(&[[-1.0f64, 0.5], [3.0, 1.0]], &dev).unwrap();
    let l = Tensor::new(&[0.0f64], &dev).unwrap();
    let d = noise_scale(&w, &l, &cfg()).unwrap().to_vec1::<f64>().unwrap();
    assert!(close(d[0], 4.0 / (2f64.powf(8.5) - 1.0), 1e-12));
}

#[test]
fn constant_tensor_has_zero_noise_and_finite_grads() {
    let dev = Device::Cpu;
    let w = Var::new(&[[0.25f64; 8]; 2], &dev).unwrap();
    let l = Var::new(&[0.0f64, 1.0], &dev).unwrap();
    let layout = QuantLayout { count: 16, group_size: 8, n_groups: 2, n_logits: 2, row_pairs: None };
    let n = Tensor::ones((2, 8), DType::F64, &dev).unwrap();
    let y = pseudo_quantize(w.as_tensor(), l.as_tensor(), &n, &layout, &cfg()).unwrap();
    assert_eq!(y.flatten_all().unwrap().to_vec1::<f64>().unwrap(), vec![0.25; 16]);
    let g = y.sum_all().unwrap().backward().unwrap();
    for v in [w.as_tensor(), l.as_tensor()] {
        let gv = g.get(v).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        assert!(gv.iter().all(|x| x.is_finite()));
    }
}

/// f(w, logits) = Σ c_i · pseudo_quantize(w, logits, n)_i with fixed noise, in f64.
fn objective(w: &[f64], l: &[f64], n: &[f64], c: &[f64], cf: &DiffqConfig) -> (f64, Vec<f64>, Vec<f64>) {
    let dev = Device::Cpu;
    let wv = Var::from_vec(w.to_vec(), (2, 8), &dev).unwrap();
    let lv = Var::from_vec(l.to_vec(), 2, &dev).unwrap();
    let nt = Tensor::from_vec(n.to_vec(), (2, 8), &dev).unwrap();
    let ct = Tensor::from_vec(c.to_vec(), (2, 8), &dev).unwrap();
    let layout = QuantLayout { count: 16, group_size: 8, n_groups: 2, n_logits: 2, row_pairs: None };
    let y = pseudo_quantize(wv.as_tensor(), lv.as_tensor(), &nt, &layout, cf).unwrap();
    let f = (y * ct).unwrap().sum_all().unwrap();
    let g = f.backward().unwrap();
    let gw = g.get(wv.as_tensor()).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    let gl = g.get(lv.as_tensor()).unwrap().to_vec1().unwrap();
    (f.to_scalar::<f64>().unwrap(), gw, gl)
}

#[test]
fn finite_difference_gradients_w_range_bits() {
    for param in [BitsParam::Bits, BitsParam::Noise] {
        let cf = DiffqConfig { param, ..cfg() };
        // distinct values: index 3 is the max, index 12 the min -> they carry the range gradient.
        let w: Vec<f64> = (0..16).map(|i| ((i * 7 % 16) as f64 - 7.3) * 0.11).collect();
        let l = vec![-1.2, 0.7];
        let n: Vec<f64> = (0..16).map(|i| ((i * 5 % 11) as f64 - 5.0) * 0.37).collect();
        let c: Vec<f64> = (0..16).map(|i| 1.0 + (i as f64) * 0.1).collect();
        let (_, gw, gl) = objective(&w, &l, &n, &c, &cf);
        let h = 1e-6;
        for i in 0..16 {
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[i] += h;
            wm[i] -= h;
            let fd = (objective(&wp, &l, &n, &c, &cf).0 - objective(&wm, &l, &n, &c, &cf).0) / (2.0 * h);
            assert!(close(gw[i], fd, 1e-6), "{param:?} dw[{i}]: {} vs {fd}", gw[i]);
        }
        for i in 0..2 {
            let (mut lp, mut lm) = (l.clone(), l.clone());
            lp[i] += h;
            lm[i] -= h;
            let fd = (objective(&w, &lp, &n, &c, &cf).0 - objective(&w, &lm, &n, &c, &cf).0) / (2.0 * h);
            assert!(close(gl[i], fd, 1e-6), "{param:?} dlogit[{i}]: {} vs {fd}", gl[i]);
            assert!(gl[i].abs() > 1e-6, "bit gradient must not vanish");
        }
        // the range gradient reaches the extremes beyond their own identity term c_i
        let imax = w.iter().enumerate().fold(0, |a, (i, v)| if *v > w[a] { i } else { a });
        assert!((gw[imax] - c[imax]).abs() > 1e-9);
    }
}

#[test]
fn noise_samples_have_expected_moments() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let g = sample_noise(NoiseKind::Gaussian, 20000, &mut rng);
    let var = g.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / 20000.0;
    assert!((var - 0.25).abs() < 0.02, "{var}");
    let u = sample_noise(NoiseKind::Uniform, 20000, &mut rng);
    assert!(u.iter().all(|x| (-0.5..=0.5).contains(x)));
    let var = u.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / 20000.0;
    assert!((var - 1.0 / 12.0).abs() < 0.01, "{var}");
}

/// Row-pair groups: each weight gets the noise scale of the storage group the blob puts it in.
/// Equivalent formulation: permute to storage order, apply the row-major grouping, permute back.
#[test]
fn row_pair_noise_follows_the_blob_groups() {
    let dev = Device::Cpu;
    // 5 rows of 32 (an odd last row), groups of 16 = 8 columns × 2 rows.
    let (rows, len, gs) = (5usize, 32usize, 16usize);
    let count = rows * len;
    let paired =
        QuantLayout { count, group_size: gs, n_groups: count / gs, n_logits: count / gs, row_pairs: Some(len) };
    let rowwise = QuantLayout { row_pairs: None, ..paired };
    let w: Vec<f64> = (0..count).map(|i| ((i * 37 % 101) as f64 - 50.0) * 0.01).collect();
    let n: Vec<f64> = (0..count).map(|i| ((i * 53 % 97) as f64 - 48.0) * 0.02).collect();
    let l: Vec<f64> = (0..count / gs).map(|g| (g as f64 * 0.7).sin() * 2.0).collect();
    let t = |v: &[f64]| Tensor::from_vec(v.to_vec(), (rows, len), &dev).unwrap();
    let lt = Tensor::from_vec(l.clone(), count / gs, &dev).unwrap();
    let got =
        pseudo_quantize(&t(&w), &lt, &t(&n), &paired, &cfg()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
    let perm = |v: &[f64]| -> Vec<f64> {
        let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        paired.to_storage(&f).iter().map(|&x| f64::from(x)).collect()
    };
    let want_st = pseudo_quantize(&t(&perm(&w)), &lt, &t(&perm(&n)), &rowwise, &cfg())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap();
    let want: Vec<f32> = paired.from_storage(&want_st.iter().map(|&x| x as f32).collect::<Vec<_>>());
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((*a as f32 - b).abs() < 1e-6, "weight {i}: {a} vs {b}");
    }
    // storage order round-trips, and the last (odd) row is stored row-major
    let f: Vec<f32> = (0..count).map(|i| i as f32).collect();
    assert_eq!(paired.from_storage(&paired.to_storage(&f)), f);
    assert_eq!(&paired.to_storage(&f)[4 * len..], &f[4 * len..]);
    assert_eq!(&paired.to_storage(&f)[..gs], &[0., 1., 2., 3., 4., 5., 6., 7., 32., 33., 34., 35., 36., 37., 38., 39.]);
    // gradients reach every logit through the gather
    let lv = Var::from_tensor(&lt).unwrap();
    let y = pseudo_quantize(&t(&w), lv.as_tensor(), &t(&n), &paired, &cfg()).unwrap();
    let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
    let gl = g.get(lv.as_tensor()).unwrap().to_vec1::<f64>().unwrap();
    assert!(gl.iter().all(|x| x.is_finite() && *x != 0.0), "{gl:?}");
}

/// Row-pair groups may be one whole row of each of a pair (groups of 96 over rows of 48): their
/// segments divide the rows. Row-major groups must divide the rows themselves, and a pair layout
/// whose lone last row would not be whole groups is refused by the count.
#[test]
fn row_pair_groups_may_cover_whole_rows() {
    let c = |pair_rows| DiffqConfig { group_size: 96, pair_rows, ..cfg() };
    let l = c(true).layout_for("w", 144 * 48, 48, 48).unwrap();
    assert_eq!((l.n_groups, l.row_pairs), (72, Some(48)));
    // The first group: row 0's 48 values, then row 1's.
    let order: Vec<usize> = (0..96).map(|i| l.blob_layout().position(l.count, 96, i)).collect();
    assert_eq!(order, (0..96).collect::<Vec<_>>());
    assert_eq!(l.blob_layout().position(l.count, 96, 96), 96);
    assert!(matches!(c(false).layout_for("w", 144 * 48, 48, 48), Err(DiffqError::GroupDoesNotDivide { .. })));
    assert!(matches!(c(true).layout_for("w", 143 * 48, 48, 48), Err(DiffqError::GroupDoesNotDivide { .. })));
}
