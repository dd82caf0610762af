//! Live audio: INMP441 microphone in, MAX98357A amplifier out, both I2S masters at the blob's
//! sample rate (8 or 16 kHz, `demo_core::assets::SAMPLE_RATE`) from PLLI2S (Philips, 32-bit
//! channels: 64 bit clocks per frame, as the INMP441 requires).
//!
//! | link | peripheral | pins (AF) | DMA1 | buffers |
//! |---|---|---|---|---|
//! | microphone | I2S2 (SPI2), master receive | WS PB12, CK PB13, SD PB15 (AF5) | stream 3, channel 0 | 2 in the DMA + 1 spare |
//! | amplifier | I2S3 (SPI3), master transmit | WS PA15, CK PB3, SD PB5 (AF6) | stream 5, channel 0 | 2 in the DMA + 1 spare |
//!
//! Each stream runs in the DMA's double-buffer mode: circular over two buffers of one hop each
//! (`demo_core::assets::HOP` stereo frames: 256 at 16 kHz, 128 at 8 kHz), an interrupt when
//! either is complete. Receive interrupt: the finished buffer is exchanged for
//! the spare, its microphone slot goes into the input queue whole or counts as an overrun.
//! Transmit interrupt: the spare is filled from the output queue (or silence, an underrun) and
//! exchanged for the buffer just played. The main loop is demo-core's `run` over the queues; it
//! sleeps with `wfe` while the input is empty (each interrupt ends with `sev`, so a hop handed
//! over between the check and the `wfe` is not slept through). All of this except the register
//! moves is `demo_core::i2s`, tested on the host (host-tests/tests/i2s_link.rs).

use core::cell::{Cell, RefCell};

use cortex_m::peripheral::NVIC;
use critical_section::Mutex;
use demo_core::assets::{Size, HOP};
use demo_core::i2s::{halfwords_of, LinkStats, Slot};
use demo_core::{run, CycleWindow, DemoError, QueueSink, QueueSource};
use heapless::spsc::{Consumer, Producer, Queue};
use runtime::pipeline::Denoise;
use stm32f4xx_hal::dma::config::{DmaConfig, Priority};
use stm32f4xx_hal::dma::{DMAError, MemoryToPeripheral, PeripheralToMemory, Stream3, Stream5, StreamsTuple, Transfer};
use stm32f4xx_hal::i2s::stm32_i2s_v12x::driver::{DataFormat, I2sDriver, I2sDriverConfig};
use stm32f4xx_hal::i2s::stm32_i2s_v12x::marker::{Master, Philips, Receive, Transmit};
use stm32f4xx_hal::i2s::{I2s, I2sExt};
use stm32f4xx_hal::pac::{self, interrupt, Interrupt, DMA1, SPI2, SPI3};
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::Rcc;

use crate::{log_cycles, Cycles, I2S_DIVISION};

/// The microphone's slot: INMP441 with L/R tied to GND.
const MIC_SLOT: Slot = Slot::Left;
/// Hops per logged line of cycle statistics (50 hops = 0.8 s).
const LOG_EVERY: u32 = 50;
/// Queue length in samples: room for two hops (an spsc queue holds N - 1).
const QUEUE: usize = 2 * HOP + 1;
/// Half-words per DMA buffer: one hop of stereo frames.
const HOP_HALFWORDS: usize = halfwords_of::<Size>();
/// One DMA buffer.
type HopWords = [u16; HOP_HALFWORDS];

type Mic = I2sDriver<I2s<SPI2>, Master, Receive, Philips>;
type Amp = I2sDriver<I2s<SPI3>, Master, Transmit, Philips>;
type Buffer = &'static mut HopWords;
type MicDma = Transfer<Stream3<DMA1>, 0, Mic, PeripheralToMemory, Buffer>;
type AmpDma = Transfer<Stream5<DMA1>, 0, Amp, MemoryToPeripheral, Buffer>;

/// One direction of the link, owned by its DMA interrupt.
struct Side<D, Q> {
    dma: D,
    spare: Option<Buffer>,
    queue: Q,
}

/// Owned by the receive interrupt once started.
type MicSide = Side<MicDma, Producer<'static, i16>>;
/// Owned by the transmit interrupt once started.
type AmpSide = Side<AmpDma, Consumer<'static, i16>>;

static MIC: Mutex<RefCell<Option<MicSide>>> = Mutex::new(RefCell::new(None));
static AMP: Mutex<RefCell<Option<AmpSide>>> = Mutex::new(RefCell::new(None));
static LINK: Mutex<Cell<LinkStats>> = Mutex::new(Cell::new(LinkStats::new()));
/// DMA buffer exchanges that the HAL refused (an interrupt serviced too late for the DMA).
static DMA_ERRORS: Mutex<Cell<u32>> = Mutex::new(Cell::new(0));

/// The links' peripherals: both I2S on their pins (not yet configured) and the DMA streams.
pub struct Peripherals {
    mic: I2s<SPI2>,
    amp: I2s<SPI3>,
    dma: StreamsTuple<DMA1>,
}

impl Peripherals {
    /// Takes the pins and enables the peripherals. Inlined where the clocks are frozen, so that
    /// the I2S clock the HAL reads here is known at compile time and its check (with a panic
    /// message) vanishes.
    #[inline(always)]
    pub fn take(gpio: (pac::GPIOA, pac::GPIOB), spi: (SPI2, SPI3), dma1: DMA1, rcc: &mut Rcc) -> Self {
        let (gpioa, gpiob) = (gpio.0.split(rcc), gpio.1.split(rcc));
        let mic = I2s::new(spi.0, (gpiob.pb12, gpiob.pb13, SPI2::NoMck, gpiob.pb15), rcc);
        // PA15 and PB3 leave reset as JTAG pins (JTDI, JTDO/SWO); SWD (PA13, PA14) and RTT need neither.
        let (amp_ws, amp_ck) = (gpioa.pa15.into_input(), gpiob.pb3.into_input());
        let amp = I2s::new(spi.1, (amp_ws, amp_ck, SPI3::NoMck, gpiob.pb5), rcc);
        Peripherals { mic, amp, dma: StreamsTuple::new(dma1, rcc) }
    }
}

/// Starts both links and runs the stream loop on them until an error (the links run at the
/// blob's rate, so the denoiser is of the blob's frame size).
/// Out of line, so that its frame is not stacked on top of the denoiser's construction.
#[inline(never)]
pub fn stream<D: Denoise<Size = Size>>(den: &mut D, dp: Peripherals, nvic: &mut NVIC) -> Result<(), DemoError> {
    let (input, output) = start_links(dp, nvic)?;
    let wait = || {
        cortex_m::asm::wfe();
        true
    };
    let mut src = QueueSource { rx: input, wait };
    let mut sink = QueueSink { tx: output, wait };
    let mut window = CycleWindow::new(LOG_EVERY);
    run(den, &mut src, &mut sink, &mut Cycles, |_, cycles| {
        if let Some(w) = window.record(cycles) {
            log_cycles(&w);
            let (link, dma_errors) = critical_section::with(|cs| (LINK.borrow(cs).get(), DMA_ERRORS.borrow(cs).get()));
            defmt::info!("link: {}, DMA errors {=u32}", link, dma_errors);
        }
    })?;
    Ok(())
}

/// Configures both I2S masters and their DMA streams, hands them to the interrupts and starts
/// them. Returns the loop's ends of the queues: microphone samples in, processed samples out.
fn start_links(
    dp: Peripherals,
    nvic: &mut NVIC,
) -> Result<(Consumer<'static, i16>, Producer<'static, i16>), DemoError> {
    // The prescaler's division I2S_DIVISION (125: I2SDIV 62, ODD 1) of the I2S clock, which is
    // the blob's rate x 64 x I2S_DIVISION (main.rs): the blob's rate exactly.
    let config = I2sDriverConfig::new_master()
        .standard(Philips)
        .data_format(DataFormat::Data32Channel32)
        .master_clock(false)
        .prescaler(I2S_DIVISION % 2 == 1, (I2S_DIVISION / 2) as u8);
    let mut mic = config.receive().i2s_driver(dp.mic);
    let mut amp = config.transmit().i2s_driver(dp.amp);
    defmt::info!("I2S sample rate: microphone {=u32} Hz, amplifier {=u32} Hz", mic.sample_rate(), amp.sample_rate());
    mic.set_rx_dma(true);
    amp.set_tx_dma(true);

    let in_queue = cortex_m::singleton!(: Queue<i16, QUEUE> = Queue::new()).ok_or(DemoError::Internal)?;
    let out_queue = cortex_m::singleton!(: Queue<i16, QUEUE> = Queue::new()).ok_or(DemoError::Internal)?;
    let (mic_tx, loop_rx) = in_queue.split();
    let (loop_tx, amp_rx) = out_queue.split();

    let [b0, b1, b2, b3, b4, b5] =
        cortex_m::singleton!(: [HopWords; 6] = [[0; HOP_HALFWORDS]; 6]).ok_or(DemoError::Internal)?.each_mut();
    let dma_config = DmaConfig::default()
        .memory_increment(true)
        .double_buffer(true)
        .transfer_complete_interrupt(true)
        .priority(Priority::High);
    let streams = dp.dma;
    let mut mic_dma = Transfer::init_peripheral_to_memory(streams.3, mic, b0, Some(b1), dma_config);
    let mut amp_dma = Transfer::init_memory_to_peripheral(streams.5, amp, b3, Some(b4), dma_config);
    mic_dma.start(|i2s| i2s.enable());
    amp_dma.start(|i2s| i2s.enable());
    critical_section::with(|cs| {
        let (Ok(mut mic_side), Ok(mut amp_side)) = (MIC.borrow(cs).try_borrow_mut(), AMP.borrow(cs).try_borrow_mut())
        else {
            return Err(DemoError::Internal);
        };
        mic_side.replace(Side { dma: mic_dma, spare: Some(b2), queue: mic_tx });
        amp_side.replace(Side { dma: amp_dma, spare: Some(b5), queue: amp_rx });
        Ok(())
    })?;
    // SAFETY: both handlers only touch state behind critical-section mutexes, which exist
    // before they are unmasked; no critical section of the program relies on them being masked.
    #[allow(unsafe_code)]
    unsafe {
        nvic.set_priority(Interrupt::DMA1_STREAM3, 0x40);
        nvic.set_priority(Interrupt::DMA1_STREAM5, 0x40);
        NVIC::unmask(Interrupt::DMA1_STREAM3);
        NVIC::unmask(Interrupt::DMA1_STREAM5);
    }
    Ok((loop_rx, loop_tx))
}

/// The buffer of a refused exchange, back to the spare.
fn refused(e: DMAError<Buffer>) -> Buffer {
    match e {
        DMAError::NotReady(b) | DMAError::SmallBuffer(b) | DMAError::Overrun(b) => b,
    }
}

/// One more refused DMA exchange.
fn count_dma_error(cs: critical_section::CriticalSection) {
    let errors = DMA_ERRORS.borrow(cs);
    errors.set(errors.get() + 1);
}

/// Receive DMA: a buffer of microphone frames is complete. (The sides are borrowed with
/// `try_borrow_mut`: inside a critical section nothing else holds them, and the panicking
/// `borrow_mut` would link `core::fmt` for its message.)
#[interrupt]
fn DMA1_STREAM3() {
    critical_section::with(|cs| {
        let Ok(mut side) = MIC.borrow(cs).try_borrow_mut() else { return };
        let Some(side) = side.as_mut() else { return };
        let Some(spare) = side.spare.take() else { return };
        match side.dma.next_transfer(spare) {
            Ok((done, _)) => {
                let link = LINK.borrow(cs);
                let mut stats = link.get();
                stats.receive(done, MIC_SLOT, &mut side.queue);
                link.set(stats);
                side.spare = Some(done);
            }
            Err(e) => {
                side.spare = Some(refused(e));
                count_dma_error(cs);
            }
        }
    });
    cortex_m::asm::sev();
}

/// Transmit DMA: a buffer has been played; the spare becomes the one after the current.
#[interrupt]
fn DMA1_STREAM5() {
    critical_section::with(|cs| {
        let Ok(mut side) = AMP.borrow(cs).try_borrow_mut() else { return };
        let Some(side) = side.as_mut() else { return };
        let Some(spare) = side.spare.take() else { return };
        let link = LINK.borrow(cs);
        let mut stats = link.get();
        stats.transmit(&mut side.queue, spare);
        link.set(stats);
        match side.dma.next_transfer(spare) {
            Ok((played, _)) => side.spare = Some(played),
            Err(e) => {
                side.spare = Some(refused(e));
                count_dma_error(cs);
            }
        }
    });
    cortex_m::asm::sev();
}
