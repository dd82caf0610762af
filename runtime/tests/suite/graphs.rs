//! Version 5 node graphs for the tests: [`G`] adds each node to a `GraphWriter` and to an
//! independent f64 reference ([`G::reference`]) of the same graph, written from FORMAT.md.

use crate::common::{rand_vec, Bits, Q};
use diffq_runtime::format::{Act, FrontEnd, Output};
use diffq_runtime::writer::{ConvSpec, GraphWriter, ValueId};
use rand::rngs::StdRng;

/// One node of the reference: its inputs (value ids) and what it computes.
#[derive(Clone, Debug)]
pub enum R {
    /// conv1d (`k`, `d`; linear: 1, 1) with row-major weights `[out][k][cin]`, bias, activation,
    /// computed on frames `t ≡ 0 (mod s)` and held in between (`s = 1`: every frame).
    Weighted {
        x: usize,
        w: Vec<f32>,
        b: Vec<f32>,
        cin: usize,
        out: usize,
        k: usize,
        d: usize,
        s: usize,
        act: Act,
    },
    Relu(usize),
    Sigmoid(usize),
    Tanh(usize),
    Add(usize, usize),
    Mul(usize, usize),
    Concat(Vec<usize>),
    Softmax(usize),
}

/// A graph under construction, in the writer and in the reference.
pub struct G {
    pub w: GraphWriter,
    pub nodes: Vec<R>,
    pub widths: Vec<usize>,
    ids: Vec<ValueId>,
}

fn act_f64(act: Act, v: f64) -> f64 {
    match act {
        Act::None => v,
        Act::Relu => v.max(0.0),
        Act::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        Act::Tanh => v.tanh(),
    }
}

impl G {
    /// A graph on the 8 kHz front end: 128 features in, class scores out (any output length).
    pub fn new() -> G {
        let w = GraphWriter::new(scores());
        let ids = vec![w.input()];
        G { w, nodes: Vec::new(), widths: vec![128], ids }
    }

    fn vid(&self, v: usize) -> ValueId {
        self.ids[v]
    }

    fn push(&mut self, r: R, v: ValueId, width: usize) -> usize {
        self.nodes.push(r);
        self.widths.push(width);
        self.ids.push(v);
        assert_eq!(usize::from(v.index()), self.widths.len() - 1);
        self.widths.len() - 1
    }

    /// A conv1d (k, d) or, with `k = 0`, a linear node of `out` outputs with random packed
    /// weights (group size 16, 2..5 bits) and an f32 bias.
    pub fn weighted(&mut self, r: &mut StdRng, x: usize, out: usize, kd: (usize, usize), act: Act) -> usize {
        self.weighted_strided(r, x, out, kd, 1, act)
    }

    /// [`G::weighted`] with a conv1d time stride `s` (1..=8).
    pub fn weighted_strided(
        &mut self,
        r: &mut StdRng,
        x: usize,
        out: usize,
        (k, d): (usize, usize),
        s: usize,
        act: Act,
    ) -> usize {
        let cin = self.widths[x];
        let kk = k.max(1);
        let q = Q::random(r, out * kk * cin, 16, Bits::Var(2, 5));
        let b = rand_vec(r, out, 0.3);
        let wt = self.w.packed_tensor_in(q.layout, &q.levels, &q.bits, q.gs, (q.min, q.max)).unwrap();
        let bt = self.w.f32_tensor(&b).unwrap();
        let xv = self.vid(x);
        let v = if k == 0 {
            self.w.linear(xv, wt, Some(bt), out, act).unwrap()
        } else {
            let spec = ConvSpec { out_c: out, kernel: k, dilation: d, groups: 1, act };
            self.w.conv1d_strided(xv, (wt, Some(bt)), spec, s).unwrap()
        };
        self.push(R::Weighted { x, w: q.dequant(), b, cin, out, k: kk, d, s, act }, v, out)
    }

    pub fn relu(&mut self, x: usize) -> usize {
        let v = self.w.relu(self.vid(x)).unwrap();
        self.push(R::Relu(x), v, self.widths[x])
    }
    pub fn sigmoid(&mut self, x: usize) -> usize {
        let v = self.w.sigmoid(self.vid(x)).unwrap();
        self.push(R::Sigmoid(x), v, self.widths[x])
    }
    pub fn tanh(&mut self, x: usize) -> usize {
        let v = self.w.tanh(self.vid(x)).unwrap();
        self.push(R::Tanh(x), v, self.widths[x])
    }
    pub fn add(&mut self, a: usize, b: usize) -> usize {
        let v = self.w.add(self.vid(a), self.vid(b)).unwrap();
        self.push(R::Add(a, b), v, self.widths[a])
    }
    pub fn mul(&mut self, a: usize, b: usize) -> usize {
        let v = self.w.mul(self.vid(a), self.vid(b)).unwrap();
        self.push(R::Mul(a, b), v, self.widths[a])
    }
    pub fn concat(&mut self, xs: &[usize]) -> usize {
        let ids: Vec<ValueId> = xs.iter().map(|&x| self.vid(x)).collect();
        let v = self.w.concat(&ids).unwrap();
        let width = xs.iter().map(|&x| self.widths[x]).sum();
        self.push(R::Concat(xs.to_vec()), v, width)
    }
    pub fn softmax(&mut self, x: usize) -> usize {
        let v = self.w.softmax(self.vid(x)).unwrap();
        self.push(R::Softmax(x), v, self.widths[x])
    }

    /// The f64 reference over a sequence of frames: the last value of each frame.
    pub fn reference(&self, frames: &[Vec<f32>]) -> Vec<Vec<f64>> {
        self.reference_values(frames).pop().unwrap()
    }

    /// The f64 reference of every value (`[value][frame][element]`).
    pub fn reference_values(&self, frames: &[Vec<f32>]) -> Vec<Vec<Vec<f64>>> {
        // values[v][t]: value v at frame t.
        let mut values: Vec<Vec<Vec<f64>>> =
            vec![frames.iter().map(|f| f.iter().map(|&x| f64::from(x)).collect()).collect()];
        for n in &self.nodes {
            let seq: Vec<Vec<f64>> = (0..frames.len()).map(|t| eval(n, &values, t)).collect();
            values.push(seq);
        }
        values
    }
}

fn eval(n: &R, v: &[Vec<Vec<f64>>], t: usize) -> Vec<f64> {
    let map = |x: usize, f: &dyn Fn(f64) -> f64| v[x][t].iter().map(|&a| f(a)).collect();
    match n {
        R::Weighted { x, w, b, cin, out, k, d, s, act } => (0..*out)
            .map(|o| {
                let t = t / s * s; // the frame it last computed on
                let mut acc = f64::from(b[o]);
                for j in 0..*k {
                    let back = (k - 1 - j) * d;
                    if t < back {
                        continue;
                    }
                    for i in 0..*cin {
                        acc += f64::from(w[(o * k + j) * cin + i]) * v[*x][t - back][i];
                    }
                }
                act_f64(*act, acc)
            })
            .collect(),
        R::Relu(x) => map(*x, &|a| a.max(0.0)),
        R::Sigmoid(x) => map(*x, &|a| 1.0 / (1.0 + (-a).exp())),
        R::Tanh(x) => map(*x, &|a| a.tanh()),
        R::Add(a, b) => v[*a][t].iter().zip(&v[*b][t]).map(|(p, q)| p + q).collect(),
        R::Mul(a, b) => v[*a][t].iter().zip(&v[*b][t]).map(|(p, q)| p * q).collect(),
        R::Concat(xs) => xs.iter().flat_map(|&x| v[x][t].clone()).collect(),
        R::Softmax(x) => {
            let m = v[*x][t].iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = v[*x][t].iter().map(|a| (a - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|a| a / s).collect()
        }
    }
}

/// The 8 kHz front end with class scores out: a graph's output may have any length.
pub fn scores() -> FrontEnd {
    FrontEnd { output: Output::Scores, ..FrontEnd::DEFAULT }
}
