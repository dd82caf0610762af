//! The live-audio adapters (what a board's I2S DMA interrupt feeds) give the same output as the
//! clip source: an "interrupt" here moves 32 samples per wakeup, the output queue is drained on
//! back-pressure. At both frame sizes: the 8 kHz model (hop 128) and the default 16 kHz model
//! (hop 256), each on the demo clip at its rate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use demo_core::{run, NoCounter, QueueSink, QueueSource};
use heapless::spsc::Queue;
use host_tests::clip::clip_at;
use host_tests::qemu::NumPath;
use host_tests::{narrowband_model, reference, repo_root, DEFAULT_MODEL};
use runtime::dsp::{FrameSize, Narrowband, Wideband};
use runtime::pipeline::F32Denoiser;

#[test]
fn queue_source_and_sink_match_the_reference() {
    queue_case::<Narrowband>(&std::fs::read(narrowband_model()).unwrap());
}

#[test]
fn queue_source_and_sink_match_the_reference_at_16k() {
    queue_case::<Wideband>(&std::fs::read(repo_root().join(DEFAULT_MODEL)).unwrap());
}

fn queue_case<Z: FrameSize>(blob: &[u8]) {
    let audio = audio_tools::read_i16(&clip_at(Z::SAMPLE_RATE).0, Z::SAMPLE_RATE).unwrap();
    let expected = reference::denoise(blob, &audio, NumPath::F32).unwrap();

    let model = runtime::Model::parse(blob).unwrap();
    let (mut arena, mut state) = (vec![0.0f32; model.f32_arena_len()], vec![0.0f32; model.f32_state_len()]);
    let mut den = F32Denoiser::<i16, Z>::with_size(model, &mut arena, &mut state).unwrap();
    let (mut inq, mut outq) = (Queue::<i16, 64>::new(), Queue::<i16, 200>::new());
    let (mut in_tx, in_rx) = inq.split();
    let (out_tx, mut out_rx) = outq.split();
    let mut samples = audio.iter().copied();
    // "DMA interrupt": up to 32 new samples per wakeup; false once the input is exhausted.
    let mut src = QueueSource {
        rx: in_rx,
        wait: || {
            let mut moved = 0;
            while moved < 32 {
                match samples.next() {
                    Some(s) => in_tx.enqueue(s).unwrap(),
                    None => return moved > 0,
                }
                moved += 1;
            }
            true
        },
    };
    let mut got = Vec::new();
    let mut sink = QueueSink {
        tx: out_tx,
        wait: || {
            while let Some(s) = out_rx.dequeue() {
                got.push(s);
            }
            true
        },
    };
    let stats = run(&mut den, &mut src, &mut sink, &mut NoCounter, |_, _| {}).unwrap();
    (sink.wait)(); // drain the last hop
    assert_eq!(stats.frames as usize, expected.len() / Z::HOP);
    assert_eq!(got, expected);
}
