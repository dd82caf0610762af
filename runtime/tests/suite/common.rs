//! Random models, an independent f64 reference executor, and blob helpers.

use diffq_runtime::format::Layout;
use diffq_runtime::quant::{dequantize, scale_for_bits};
use diffq_runtime::writer::{BlobWriter, TensorId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// How the groups of a packed tensor get their bit widths.
#[derive(Clone, Copy, Debug)]
pub enum Bits {
    /// Every group `b` bits: the fixed-bit fast path.
    Fixed(u8),
    /// Each group uniform in `lo..=hi` (at least one group of each end when there are ≥ 2 groups).
    Var(u8, u8),
}

/// A DiffQ-quantised tensor as the trainer hands it to the writer.
#[derive(Clone, Debug)]
pub struct Q {
    pub levels: Vec<u16>,
    pub bits: Vec<u8>,
    pub gs: usize,
    pub min: f32,
    pub max: f32,
    /// Storage layout: `levels` and `bits` are in storage order (row-major for `Rows`).
    pub layout: Layout,
}

impl Q {
    pub fn random(r: &mut StdRng, count: usize, gs: usize, bits: Bits) -> Q {
        assert_eq!(count % gs, 0);
        let n_groups = count / gs;
        let mut group_bits: Vec<u8> = (0..n_groups)
            .map(|_| match bits {
                Bits::Fixed(b) => b,
                Bits::Var(lo, hi) => r.random_range(lo..=hi),
            })
            .collect();
        if let (Bits::Var(lo, hi), true) = (bits, n_groups >= 2) {
            group_bits[0] = lo;
            group_bits[n_groups - 1] = hi;
        }
        let levels = (0..count).map(|i| r.random_range(0..(1u32 << group_bits[i / gs])) as u16).collect();
        let min = if r.random_bool(0.05) { 0.0 } else { -r.random_range(0.01f32..2.0) };
        let max = if r.random_bool(0.03) { min } else { r.random_range(0.01f32..2.0) };
        Q { levels, bits: group_bits, gs, min, max, layout: Layout::Rows }
    }

    /// The same storage-order levels and group widths, read as a row-pair tensor of `row_len`.
    pub fn paired(mut self, row_len: usize) -> Q {
        self.layout = Layout::RowPairs { row_len: row_len as u16, lanes: false };
        self
    }

    /// Storage position of row-major value `i`.
    pub fn pos(&self, i: usize) -> usize {
        self.layout.position(self.levels.len(), self.gs, i)
    }

    /// Level and bit width of row-major value `i`.
    pub fn at(&self, i: usize) -> (u16, u8) {
        let q = self.pos(i);
        (self.levels[q], self.bits[q / self.gs])
    }

    /// Each weight, row-major, exactly as FORMAT.md dequantises it (`diffq_runtime::quant::dequantize`).
    pub fn dequant(&self) -> Vec<f32> {
        (0..self.levels.len())
            .map(|i| {
                let (l, b) = self.at(i);
                dequantize(self.min, scale_for_bits(self.min, self.max, b), l)
            })
            .collect()
    }

    /// `|min| + |level·scale|` per weight: the size of the terms the kernels actually add.
    pub fn term_mag(&self) -> Vec<f64> {
        (0..self.levels.len())
            .map(|i| {
                let (l, b) = self.at(i);
                let s = scale_for_bits(self.min, self.max, b);
                f64::from(self.min).abs() + (f64::from(l) * f64::from(s)).abs()
            })
            .collect()
    }

    pub fn add(&self, w: &mut BlobWriter) -> TensorId {
        w.packed_tensor_in(self.layout, &self.levels, &self.bits, self.gs, self.min, self.max).unwrap()
    }
}

/// Weights of one conv1d/linear layer.
#[derive(Clone, Debug)]
pub enum W {
    Packed(Q),
    F32(Vec<f32>),
    F16(Vec<f32>),
}

impl W {
    /// The values the runtime reads (f16 rounded).
    pub fn values(&self) -> Vec<f32> {
        match self {
            W::Packed(q) => q.dequant(),
            W::F32(v) => v.clone(),
            W::F16(v) => v.iter().map(|&x| half::f16::from_f32(x).to_f32()).collect(),
        }
    }
    pub fn term_mag(&self) -> Vec<f64> {
        match self {
            W::Packed(q) => q.term_mag(),
            _ => self.values().iter().map(|v| f64::from(v.abs())).collect(),
        }
    }
    pub fn add(&self, w: &mut BlobWriter) -> TensorId {
        match self {
            W::Packed(q) => q.add(w),
            W::F32(v) => w.f32_tensor(v).unwrap(),
            W::F16(v) => w.f16_tensor(v).unwrap(),
        }
    }
}

#[derive(Clone, Debug)]
pub enum Bias {
    None,
    F32(Vec<f32>),
    F16(Vec<f32>),
}

impl Bias {
    pub fn values(&self, n: usize) -> Vec<f32> {
        match self {
            Bias::None => vec![0.0; n],
            Bias::F32(v) => v.clone(),
            Bias::F16(v) => v.iter().map(|&x| half::f16::from_f32(x).to_f32()).collect(),
        }
    }
    pub fn add(&self, w: &mut BlobWriter) -> Option<TensorId> {
        match self {
            Bias::None => None,
            Bias::F32(v) => Some(w.f32_tensor(v).unwrap()),
            Bias::F16(v) => Some(w.f16_tensor(v).unwrap()),
        }
    }
}

/// One layer of a sequential graph (a linear layer is a conv with kernel 1).
#[derive(Clone, Debug)]
pub enum L {
    Conv { w: W, b: Bias, cin: usize, cout: usize, k: usize, d: usize },
    Linear { w: W, b: Bias, cin: usize, cout: usize },
    Relu,
    Sigmoid,
    Tanh,
}

pub fn writer(input_len: usize, layers: &[L]) -> BlobWriter {
    let mut bw = BlobWriter::new(input_len);
    for l in layers {
        match l {
            L::Conv { w, b, cin, cout, k, d } => {
                let (wi, bi) = (w.add(&mut bw), b.add(&mut bw));
                bw.conv1d(wi, bi, *cin, *cout, *k, *d).unwrap();
            }
            L::Linear { w, b, cin, cout } => {
                let (wi, bi) = (w.add(&mut bw), b.add(&mut bw));
                bw.linear(wi, bi, *cin, *cout).unwrap();
            }
            L::Relu => bw.relu().unwrap(),
            L::Sigmoid => bw.sigmoid().unwrap(),
            L::Tanh => bw.tanh().unwrap(),
        }
    }
    bw
}

pub fn rand_vec(r: &mut StdRng, n: usize, a: f32) -> Vec<f32> {
    (0..n).map(|_| r.random_range(-a..a)).collect()
}

/// Independent f64 reference of a whole sequence through the graph (zeros before frame 0).
/// `x` is `[T][input_len]`; returns `[T][output_len]`.
pub fn reference_seq(layers: &[L], input_len: usize, x: &[f32]) -> Vec<f64> {
    let t_len = x.len() / input_len;
    let mut cur: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let mut width = input_len;
    for l in layers {
        let (w, b, cin, cout, k, d) = match l {
            L::Conv { w, b, cin, cout, k, d } => (w, b, *cin, *cout, *k, *d),
            L::Linear { w, b, cin, cout } => (w, b, *cin, *cout, 1, 1),
            L::Relu => {
                cur.iter_mut().for_each(|v| *v = v.max(0.0));
                continue;
            }
            L::Sigmoid => {
                cur.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
                continue;
            }
            L::Tanh => {
                cur.iter_mut().for_each(|v| *v = v.tanh());
                continue;
            }
        };
        assert_eq!(cin, width);
        let wv = w.values();
        let bv = b.values(cout);
        let mut next = vec![0.0f64; t_len * cout];
        for t in 0..t_len {
            for n in 0..cout {
                let mut acc = f64::from(bv[n]);
                for j in 0..k {
                    let back = (k - 1 - j) * d;
                    if t < back {
                        continue;
                    }
                    let s = t - back;
                    for i in 0..cin {
                        acc += f64::from(wv[(n * k + j) * cin + i]) * cur[s * cin + i];
                    }
                }
                next[t * cout + n] = acc;
            }
        }
        cur = next;
        width = cout;
    }
    cur
}

/// Rewrites the header's CRC after a deliberate edit (so the validator runs past the checksum).
pub fn fix_crc(b: &mut [u8]) {
    if b.len() >= 16 {
        let c = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&b[16..]);
        b[12..16].copy_from_slice(&c.to_le_bytes());
    }
}

/// Sets `total_len` to the buffer length and fixes the CRC.
pub fn fix_len_crc(b: &mut [u8]) {
    if b.len() >= 12 {
        let n = b.len() as u32;
        b[8..12].copy_from_slice(&n.to_le_bytes());
    }
    fix_crc(b);
}

pub fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
pub fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
pub fn f32_at(b: &[u8], off: usize) -> f32 {
    f32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

/// Runs a blob's f32 path over `frames` (state carried across frames).
pub fn run_f32(blob: &[u8], frames: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let m = diffq_runtime::Model::parse(blob).unwrap();
    let mut arena = vec![0.0f32; m.f32_arena_len()];
    let mut sbuf = vec![0.0f32; m.f32_state_len()];
    let mut st = diffq_runtime::StateF32::new(&mut sbuf);
    frames
        .iter()
        .map(|x| {
            let mut y = vec![0.0f32; m.output_len()];
            m.step_f32(&mut st, &mut arena, x, &mut y).unwrap();
            y
        })
        .collect()
}

/// Runs a blob's integer path over `frames`.
pub fn run_i8(blob: &[u8], frames: &[Vec<i8>]) -> Vec<Vec<i8>> {
    let m = diffq_runtime::Model::parse(blob).unwrap();
    let mut arena = vec![0i8; m.i8_arena_len()];
    let mut sbuf = vec![0i8; m.i8_state_len()];
    let mut st = diffq_runtime::StateI8::new(&mut sbuf);
    frames
        .iter()
        .map(|x| {
            let mut y = vec![0i8; m.output_len()];
            m.step_i8(&mut st, &mut arena, x, &mut y).unwrap();
            y
        })
        .collect()
}

/// FORMAT.md's input quantisation: `clamp(round(x / s), −127, 127)`.
pub fn quantize_input(x: &[f32], s: f32) -> Vec<i8> {
    x.iter().map(|&v| diffq_runtime::quant::round(v / s).clamp(-127.0, 127.0) as i8).collect()
}
