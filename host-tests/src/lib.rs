//! Host-side emulation tests and the QEMU harness (filled in by the firmware work).
