//! The STM32F411 board's audio path without the board: I2S sample formats (INMP441 in,
//! MAX98357A out), the DMA-interrupt hand-over to the stream loop with its overrun and underrun
//! accounting, and the per-window cycle statistics. A simulated board fires one receive and one
//! transmit "DMA interrupt" per hop period. Each hand-over test runs at both hops the board
//! builds for: 128 samples (8 kHz blob) and 256 (16 kHz blob), i.e. DMA buffers of 512 and 1024
//! half-words.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use std::cell::RefCell;

use demo_core::i2s::{
    decode_hop, encode_hop, halfwords_of, hop_halfwords, i16_to_slot, slot_to_i16, LinkStats, Slot, HALFWORDS_PER_FRAME,
};
use demo_core::{hop_budget_cycles, quotient_u32, run, CycleWindow, NoCounter, QueueSink, QueueSource, RunStats};
use heapless::spsc::{Consumer, Producer, Queue};
use host_tests::clip::clip_at;
use host_tests::qemu::NumPath;
use host_tests::{narrowband_model, reference, repo_root, DEFAULT_MODEL};
use runtime::dsp::{FrameSize, Hop, Narrowband, Wideband};
use runtime::pipeline::{Denoise, F32Denoiser};

/// DMA buffer lengths (half-words) of the two hops.
const W8K: usize = halfwords_of::<Narrowband>();
const W16K: usize = halfwords_of::<Wideband>();
/// Input and output queue lengths of the board: room for two hops (an spsc queue holds N - 1
/// items).
const Q8K: usize = 2 * Narrowband::HOP + 1;
const Q16K: usize = 2 * Wideband::HOP + 1;

#[test]
fn buffer_lengths_follow_the_hop() {
    assert_eq!((W8K, W16K), (512, 1024));
    assert_eq!(hop_halfwords(Narrowband::HOP), W8K);
    assert_eq!(W16K / HALFWORDS_PER_FRAME, Wideband::HOP);
}

fn slot(word: u32) -> i16 {
    slot_to_i16((word >> 16) as u16, word as u16)
}

#[test]
fn mic_slot_conversion_rounds_and_saturates() {
    // 24-bit full scale, left-justified (INMP441): saturates instead of wrapping.
    assert_eq!(slot(0x7FFF_FF00), i16::MAX);
    assert_eq!(slot(0x7FFF_8000), i16::MAX);
    assert_eq!(slot(0x8000_0000), i16::MIN);
    assert_eq!(slot(0x8000_7F00), i16::MIN);
    // Rounding on the bits below the top 16: to nearest, ties upwards.
    assert_eq!(slot(0x1234_7F00), 0x1234);
    assert_eq!(slot(0x1234_8000), 0x1235);
    assert_eq!(slot(0x0000_0000), 0);
    assert_eq!(slot(0xFFFF_8000), 0); // -0.5 LSB
    assert_eq!(slot(0xFFFF_7F00), -1);
    assert_eq!(slot(0xFFFF_0000), -1);
    assert_eq!(slot(0xC000_0000), -16384);
}

#[test]
fn amp_slot_round_trips_every_sample() {
    for s in i16::MIN..=i16::MAX {
        let [hi, lo] = i16_to_slot(s);
        assert_eq!(lo, 0);
        assert_eq!(slot_to_i16(hi, lo), s);
    }
}

/// A DMA buffer as the INMP441 fills it: `samples` in `mic` slot (24 bits, low byte of the
/// 24 rounding down), the other slot floating (garbage).
fn mic_words<const W: usize>(samples: &[i16], mic: Slot) -> [u16; W] {
    let mut words = [0u16; W];
    for (i, frame) in words.chunks_exact_mut(4).enumerate() {
        let s = samples.get(i).copied().unwrap_or(0);
        let (hi, lo) = (s as u16, 0x7F00);
        let garbage = [0xDEAD_u16.wrapping_add(i as u16), 0xBEEF];
        let frame_words = match mic {
            Slot::Left => [hi, lo, garbage[0], garbage[1]],
            Slot::Right => [garbage[0], garbage[1], hi, lo],
        };
        frame.copy_from_slice(&frame_words);
    }
    words
}

#[test]
fn decode_reads_the_mic_slot_and_ignores_the_other() {
    decode_case::<W8K>();
    decode_case::<W16K>();
}

fn decode_case<const W: usize>() {
    let hop = W / HALFWORDS_PER_FRAME;
    let samples: Vec<i16> = (0..hop as i32).map(|i| (i * 517 - 30_000) as i16).collect();
    for mic in [Slot::Left, Slot::Right] {
        let words = mic_words::<W>(&samples, mic);
        assert_eq!(decode_hop(&words, mic).collect::<Vec<_>>(), samples);
        let other = if mic == Slot::Left { Slot::Right } else { Slot::Left };
        assert_ne!(decode_hop(&words, other).collect::<Vec<_>>(), samples);
    }
}

#[test]
fn encode_puts_the_sample_in_both_slots() {
    encode_case::<W8K>();
    encode_case::<W16K>();
}

fn encode_case<const W: usize>() {
    let samples: Vec<i16> = (0..(W / HALFWORDS_PER_FRAME) as i32).map(|i| (i * 255 - 16_000) as i16).collect();
    let mut words = [0xFFFFu16; W];
    encode_hop(samples.iter().copied(), &mut words);
    assert_eq!(decode_hop(&words, Slot::Left).collect::<Vec<_>>(), samples);
    assert_eq!(decode_hop(&words, Slot::Right).collect::<Vec<_>>(), samples);
    assert!(words.chunks_exact(2).all(|slot| slot[1] == 0));
    // A short hop is padded with silence.
    encode_hop([7i16; 3], &mut words);
    let decoded: Vec<i16> = decode_hop(&words, Slot::Left).collect();
    assert_eq!(&decoded[..3], &[7, 7, 7]);
    assert!(decoded[3..].iter().all(|&s| s == 0));
}

#[test]
fn hops_are_handed_over_whole_and_in_order() {
    handover_case::<W8K, Q8K>();
    handover_case::<W16K, Q16K>();
}

fn handover_case<const W: usize, const Q: usize>() {
    let n = W / HALFWORDS_PER_FRAME;
    let hop = |k: i16| -> Vec<i16> { (0..n as i16).map(|i| k * 1000 + i).collect() };
    let mut q = Queue::<i16, Q>::new();
    let (mut tx, mut rx) = q.split();
    let mut link = LinkStats::default();
    link.receive(&mic_words::<W>(&hop(1), Slot::Left), Slot::Left, &mut tx);
    link.receive(&mic_words::<W>(&hop(2), Slot::Left), Slot::Left, &mut tx);
    // Hops 1 and 2 not yet read: no room for hop 3, dropped whole.
    link.receive(&mic_words::<W>(&hop(3), Slot::Left), Slot::Left, &mut tx);
    assert_eq!((link.hops_in, link.overruns, rx.len()), (2, 1, 2 * n));
    // Half of hop 1 read: room for half a hop only, so hop 4 is dropped whole too.
    let mut first: Vec<i16> = (0..n / 2).map(|_| rx.dequeue().unwrap()).collect();
    link.receive(&mic_words::<W>(&hop(4), Slot::Left), Slot::Left, &mut tx);
    assert_eq!((link.hops_in, link.overruns, rx.len()), (2, 2, 2 * n - n / 2));
    first.extend((n / 2..n).map(|_| rx.dequeue().unwrap()));
    assert_eq!(first, hop(1));
    link.receive(&mic_words::<W>(&hop(5), Slot::Left), Slot::Left, &mut tx);
    let rest: Vec<i16> = std::iter::from_fn(|| rx.dequeue()).collect();
    assert_eq!(rest, [hop(2), hop(5)].concat());
    assert_eq!((link.hops_in, link.overruns), (3, 2));
}

#[test]
fn transmit_sends_whole_hops_and_counts_underruns_after_start() {
    transmit_case::<W8K, Q8K>();
    transmit_case::<W16K, Q16K>();
}

fn transmit_case<const W: usize, const Q: usize>() {
    let n = W / HALFWORDS_PER_FRAME;
    let mut q = Queue::<i16, Q>::new();
    let (mut tx, mut rx) = q.split();
    let mut link = LinkStats::default();
    let mut words = [0x5555u16; W];
    link.transmit(&mut rx, &mut words); // start-up: silence, not an underrun
    assert!(words.iter().all(|&w| w == 0));
    assert_eq!((link.hops_out, link.underruns), (0, 0));
    (0..n as i16).for_each(|i| tx.enqueue(i).unwrap());
    link.transmit(&mut rx, &mut words);
    assert_eq!(decode_hop(&words, Slot::Right).collect::<Vec<_>>(), (0..n as i16).collect::<Vec<_>>());
    // Half a hop queued (the loop is still writing it): silence, an underrun, the half kept.
    (0..n as i16 / 2).for_each(|i| tx.enqueue(i).unwrap());
    link.transmit(&mut rx, &mut words);
    assert!(words.iter().all(|&w| w == 0));
    assert_eq!((link.hops_out, link.underruns, rx.len()), (1, 1, n / 2));
}

#[test]
fn cycle_window_summarises_every_n_hops() {
    let mut w = CycleWindow::new(4);
    assert_eq!(w.record(10), None);
    assert_eq!(w.record(40), None);
    assert_eq!(w.record(20), None);
    let s = w.record(30).unwrap();
    assert_eq!(s, RunStats { frames: 4, min: 10, max: 40, total: 100 });
    assert_eq!(s.mean(), 25);
    // The next window starts empty.
    assert_eq!(w.record(7), None);
    (0..2).for_each(|_| assert_eq!(w.record(7), None));
    assert_eq!(w.record(11).unwrap(), RunStats { frames: 4, min: 7, max: 11, total: 32 });
    assert_eq!(RunStats::EMPTY.mean(), 0);
    // The mean is the 64-bit quotient, rounded down, for totals past 2^32 too.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (frames, cost) = ((x >> 40) as u32 % 100_000 + 1, x as u32);
        let total = u64::from(frames) * u64::from(cost) + u64::from(cost % frames);
        let s = RunStats { frames, min: 0, max: cost, total };
        assert_eq!(u64::from(s.mean()), total / u64::from(frames), "{total} / {frames}");
    }
    let past = RunStats { frames: 2, min: 0, max: 0, total: 1 << 33 };
    assert_eq!(past.mean(), u32::MAX, "a quotient past u32 saturates");
    // The shift-and-subtract quotient against u64 division, at its edges and at random.
    for (n, d) in [(0, 1), (u64::MAX, 1), (u64::MAX, u32::MAX), ((1 << 32) - 1, 1), (1 << 32, 1), (7, 0)] {
        let want = u32::try_from(n / u64::from(d.max(1))).unwrap_or(u32::MAX);
        assert_eq!(quotient_u32(n, d), want, "{n} / {d}");
    }
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (n, d) = (x >> (x % 31), (x >> 32) as u32 >> (x % 29));
        let want = u32::try_from(n / u64::from(d.max(1))).unwrap_or(u32::MAX);
        assert_eq!(quotient_u32(n, d), want, "{n} / {d}");
    }
    // 100 MHz: 1.6 M cycles per 16 ms hop.
    assert_eq!(hop_budget_cycles(100_000_000), 1_600_000);
    assert_eq!(hop_budget_cycles(16_000_000), 256_000);
}

/// The board without registers: each `period` is one hop of time, in which the receive DMA
/// finishes a buffer of microphone frames and the transmit DMA asks for its next buffer (`W`
/// half-words each).
struct Board<'q, I: Iterator<Item = Vec<i16>>, const W: usize> {
    mic: I,
    rx_queue: Producer<'q, i16>,
    tx_queue: Consumer<'q, i16>,
    link: LinkStats,
    played: Vec<i16>,
}

impl<I: Iterator<Item = Vec<i16>>, const W: usize> Board<'_, I, W> {
    /// One hop period; false once the microphone has nothing more.
    fn period(&mut self) -> bool {
        let more = match self.mic.next() {
            Some(hop) => {
                self.link.receive(&mic_words::<W>(&hop, Slot::Left), Slot::Left, &mut self.rx_queue);
                true
            }
            None => false,
        };
        let mut words = [0u16; W];
        self.link.transmit(&mut self.tx_queue, &mut words);
        self.played.extend(decode_hop(&words, Slot::Left));
        more
    }
}

/// Runs the clip through the simulated board of frame size `Z` (DMA buffers of `W` half-words,
/// queues of `Q` samples, as the board sizes them from the blob): demo-core's `run` over the
/// queues. On hop `slow_frame` the denoiser takes `slow_periods` hop periods. Returns what the
/// amplifier played and the link's counts.
fn run_board<Z: FrameSize, const W: usize, const Q: usize>(
    audio: &[i16],
    blob: &[u8],
    slow_frame: u32,
    slow_periods: u32,
) -> (Vec<i16>, LinkStats) {
    assert_eq!((W, Q), (halfwords_of::<Z>(), 2 * Z::HOP + 1));
    let (mut inq, mut outq) = (Queue::<i16, Q>::new(), Queue::<i16, Q>::new());
    let (in_tx, in_rx) = inq.split();
    let (out_tx, out_rx) = outq.split();
    let mic = audio.chunks(Z::HOP).map(<[i16]>::to_vec).collect::<Vec<_>>().into_iter();
    let board = RefCell::new(Board::<_, W> {
        mic,
        rx_queue: in_tx,
        tx_queue: out_rx,
        link: LinkStats::default(),
        played: vec![],
    });

    let model = runtime::Model::parse(blob).unwrap();
    let (mut arena, mut state) = (vec![0.0f32; model.f32_arena_len()], vec![0.0f32; model.f32_state_len()]);
    let den = F32Denoiser::<i16, Z>::with_size(model, &mut arena, &mut state).unwrap();
    let mut slow = Slow { den, frame: 0, slow_frame, slow_periods, board: &board };
    let mut src = QueueSource { rx: in_rx, wait: || board.borrow_mut().period() };
    let mut sink = QueueSink {
        tx: out_tx,
        wait: || {
            board.borrow_mut().period();
            true
        },
    };
    run(&mut slow, &mut src, &mut sink, &mut NoCounter, |_, _| {}).unwrap();
    let mut board = board.into_inner();
    while board.tx_queue.len() >= Z::HOP {
        board.period();
    }
    (board.played, board.link)
}

/// A denoiser whose hop `slow_frame` lasts `slow_periods` hop periods of the simulated board.
struct Slow<'b, 'q, D: Denoise, I: Iterator<Item = Vec<i16>>, const W: usize> {
    den: D,
    frame: u32,
    slow_frame: u32,
    slow_periods: u32,
    board: &'b RefCell<Board<'q, I, W>>,
}

impl<D: Denoise, I: Iterator<Item = Vec<i16>>, const W: usize> Denoise for Slow<'_, '_, D, I, W> {
    type Size = D::Size;

    fn process(&mut self, input: &Hop<D::Size, i16>, output: &mut Hop<D::Size, i16>) -> Result<(), runtime::Error> {
        if self.frame == self.slow_frame {
            (0..self.slow_periods).for_each(|_| {
                self.board.borrow_mut().period();
            });
        }
        self.frame += 1;
        self.den.process(input, output)
    }
}

/// The board loop on 40 hops of the demo clip at the blob's rate against the host reference:
/// in time, and with one slow hop.
fn board_loop_case<Z: FrameSize, const W: usize, const Q: usize>(blob: &[u8]) {
    let hop = Z::HOP;
    let (noisy, _) = clip_at(Z::SAMPLE_RATE);
    let audio = audio_tools::read_i16(&noisy, Z::SAMPLE_RATE).unwrap();
    let audio = &audio[..40 * hop];
    let expected = reference::denoise(blob, audio, NumPath::F32).unwrap();
    assert_eq!(expected.len(), audio.len());

    // In time: one hop of start-up silence, then exactly the reference; nothing lost.
    let (played, link) = run_board::<Z, W, Q>(audio, blob, u32::MAX, 0);
    assert_eq!(link, LinkStats { hops_in: 40, overruns: 0, hops_out: 40, underruns: 0 });
    assert!(played[..hop].iter().all(|&s| s == 0));
    assert_eq!(&played[hop..], &expected[..]);

    // Hop 10 takes three hop periods: hops 11 and 12 wait in the queue, hop 13 finds no room
    // (one overrun), and the amplifier gets silence for three periods (three underruns).
    let (played, link) = run_board::<Z, W, Q>(audio, blob, 10, 3);
    assert_eq!(link, LinkStats { hops_in: 39, overruns: 1, hops_out: 39, underruns: 3 });
    assert_eq!(&played[hop..11 * hop], &expected[..10 * hop]);
    assert!(played[11 * hop..14 * hop].iter().all(|&s| s == 0));
    assert_eq!(&played[14 * hop..17 * hop], &expected[10 * hop..13 * hop]);
    assert_ne!(&played[17 * hop..18 * hop], &expected[13 * hop..14 * hop]);
}

#[test]
fn the_board_loop_plays_the_reference_one_hop_late_and_counts_a_slow_frame() {
    let blob = std::fs::read(narrowband_model()).unwrap();
    board_loop_case::<Narrowband, W8K, Q8K>(&blob);
}

#[test]
fn the_board_loop_at_16k_plays_the_default_model_one_hop_late_and_counts_a_slow_frame() {
    let blob = std::fs::read(repo_root().join(DEFAULT_MODEL)).unwrap();
    board_loop_case::<Wideband, W16K, Q16K>(&blob);
}
