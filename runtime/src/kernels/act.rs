//! Element-wise operations of a mask-based denoiser.

/// `x = max(x, 0)` in place.
pub fn relu(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = v.max(0.0);
    }
}

/// Integer ReLU: the scale is unchanged.
pub fn relu_i8(x: &mut [i8]) {
    for v in x.iter_mut() {
        *v = (*v).max(0);
    }
}

/// Logistic sigmoid, within 2 ulp ([`super::sigmoid_f32`]), so the mask the firmware applies
/// matches the one the trainer evaluated, and the same bits on every machine.
pub fn sigmoid(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = super::sigmoid_f32(*v);
    }
}

/// Hyperbolic tangent, within 2 ulp ([`super::tanh_f32`]).
pub fn tanh(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = super::tanh_f32(*v);
    }
}

/// Integer activation through a 256-entry table indexed by the input's two's-complement byte.
pub fn lut_i8(lut: &[u8], x: &mut [i8]) {
    for v in x.iter_mut() {
        *v = lut.get(usize::from(*v as u8)).map_or(0, |&q| q as i8);
    }
}

/// `out = a + b` element-wise (shortest length wins).
pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// `out = a · b` element-wise (applying a gain mask).
pub fn mul(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x * y;
    }
}
