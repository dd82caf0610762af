//! A board's I2S audio path without its registers: the sample formats of an I2S microphone
//! (INMP441 class) and amplifier (MAX98357A class), and the hand-over between the DMA interrupts
//! and the stream loop ([`crate::run`] over [`crate::QueueSource`] / [`crate::QueueSink`]).
//! The host tests run all of it; the board binary only moves DMA buffers.
//!
//! Frame layout: I2S Philips, 32-bit channels (64 bit clocks per stereo frame, as the INMP441
//! requires). The STM32 SPI/I2S data register is 16 bits wide, so the DMA moves each 32-bit slot
//! as two half-words, the most significant first: a stereo frame is `[L hi, L lo, R hi, R lo]`,
//! and one DMA buffer holds one hop: `[u16; W]` with `W` = [`hop_halfwords`] of the hop (512
//! half-words for the 8 kHz hop of 128 samples, 1024 for the 16 kHz hop of 256). Every function
//! here takes the buffer's length `W` as a const parameter and hands over hops of
//! `W / HALFWORDS_PER_FRAME` samples.

use heapless::spsc::{Consumer, Producer};
use runtime::dsp::FrameSize;

/// DMA half-words per stereo frame (two 32-bit slots).
pub const HALFWORDS_PER_FRAME: usize = 4;

/// DMA half-words per hop of `hop` samples: the length of each of the double buffers.
pub const fn hop_halfwords(hop: usize) -> usize {
    hop * HALFWORDS_PER_FRAME
}

/// DMA half-words per hop of frame size `Z` (512 at 8 kHz, 1024 at 16 kHz).
pub const fn halfwords_of<Z: FrameSize>() -> usize {
    hop_halfwords(Z::HOP)
}

/// Samples per hop in a DMA buffer of `W` half-words; a length that is not whole stereo frames
/// fails the build.
const fn hop_of<const W: usize>() -> usize {
    const { assert!(W.is_multiple_of(HALFWORDS_PER_FRAME) && W > 0, "a DMA hop buffer holds whole stereo frames") };
    W / HALFWORDS_PER_FRAME
}

/// The slot of the stereo frame the microphone drives (INMP441: L/R pin low = left, high = right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Left,
    Right,
}

/// One received 32-bit slot to an i16 sample: the top 16 bits, rounded to nearest on the bits
/// below (ties upwards), saturated at full scale. A 24-bit sample left-justified in the slot
/// (INMP441) keeps its top 16 bits; the rounding uses its low 8 bits.
pub fn slot_to_i16(hi: u16, lo: u16) -> i16 {
    let word = ((u32::from(hi) << 16) | u32::from(lo)) as i32;
    // In range: an i32 shifted right by 16 fits an i16.
    (word.saturating_add(0x8000) >> 16) as i16
}

/// One i16 sample to a transmitted 32-bit slot (`[hi, lo]`): left-justified, low bits zero.
pub fn i16_to_slot(sample: i16) -> [u16; 2] {
    [sample as u16, 0]
}

/// The microphone's samples of one received DMA buffer, in order; the other slot is ignored
/// (the INMP441 leaves SD floating there).
pub fn decode_hop<const W: usize>(words: &[u16; W], slot: Slot) -> impl Iterator<Item = i16> + '_ {
    let _ = hop_of::<W>();
    words.chunks_exact(HALFWORDS_PER_FRAME).map(move |frame| match (slot, frame) {
        (Slot::Left, [hi, lo, _, _]) | (Slot::Right, [_, _, hi, lo]) => slot_to_i16(*hi, *lo),
        _ => 0,
    })
}

/// One hop into a transmit DMA buffer, the same sample in both slots: a mono amplifier plays it
/// at full level whichever channel it is set to (MAX98357A SD_MODE: left, right or (L+R)/2).
pub fn encode_hop<const W: usize>(samples: impl IntoIterator<Item = i16>, words: &mut [u16; W]) {
    let _ = hop_of::<W>();
    let mut samples = samples.into_iter();
    for frame in words.chunks_exact_mut(HALFWORDS_PER_FRAME) {
        let [hi, lo] = i16_to_slot(samples.next().unwrap_or(0));
        frame.copy_from_slice(&[hi, lo, hi, lo]);
    }
}

/// What the DMA interrupts count. A hop is handed over whole or not at all, so the stream keeps
/// its hop alignment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkStats {
    /// Received hops queued for the stream loop.
    pub hops_in: u32,
    /// Received hops dropped: the input queue had no room for a whole hop because the loop was
    /// still processing (or had not yet read) the hops before it.
    pub overruns: u32,
    /// Hops sent to the amplifier.
    pub hops_out: u32,
    /// Transmit buffers filled with silence because no whole processed hop was ready, counted
    /// from the first hop sent (the start-up silence before it is not an underrun).
    pub underruns: u32,
}

impl LinkStats {
    /// Nothing counted yet.
    pub const fn new() -> Self {
        LinkStats { hops_in: 0, overruns: 0, hops_out: 0, underruns: 0 }
    }

    /// Receive interrupt: queues the microphone's samples of a finished DMA buffer for the loop,
    /// or counts an overrun and drops the hop when the queue has no room for all of it.
    pub fn receive<const W: usize>(&mut self, words: &[u16; W], slot: Slot, queue: &mut Producer<'_, i16>) {
        if queue.capacity() - queue.len() < hop_of::<W>() {
            self.overruns += 1;
            return;
        }
        for s in decode_hop(words, slot) {
            // Cannot fail: room for the whole hop was checked above, and only this side enqueues.
            let _ = queue.enqueue(s);
        }
        self.hops_in += 1;
    }

    /// Transmit interrupt: fills the buffer the DMA plays next with the next processed hop, or
    /// with silence (an underrun once playback has started) when no whole hop is queued.
    pub fn transmit<const W: usize>(&mut self, queue: &mut Consumer<'_, i16>, words: &mut [u16; W]) {
        let hop = hop_of::<W>();
        if queue.len() < hop {
            encode_hop(core::iter::empty(), words);
            if self.hops_out > 0 {
                self.underruns += 1;
            }
            return;
        }
        encode_hop(core::iter::from_fn(|| queue.dequeue()).take(hop), words);
        self.hops_out += 1;
    }
}
