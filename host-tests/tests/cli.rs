//! The task runner's command line: help everywhere, usage errors exit with 2 and say what is
//! wrong, without a backtrace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // tests

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("RUST_BACKTRACE", "1").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn help_lists_the_tasks_and_the_targets() {
    let o = xtask(&["--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for task in ["demo", "bench", "kbench", "make-clip"] {
        assert!(text(&o).contains(task), "{task} missing from:\n{}", text(&o));
    }
    for task in ["demo", "bench", "kbench", "make-clip"] {
        let o = xtask(&[task, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{task} --help: {}", text(&o));
    }
    let o = xtask(&["demo", "--help"]);
    assert!(text(&o).contains("possible values: m4, m7, m4-int, m4-c, m4-c-int, rv32, m0plus"), "{}", text(&o));
}

#[test]
fn usage_errors_exit_2_without_a_backtrace() {
    for (args, expect) in [
        (&["demo", "nosuch"][..], "invalid value 'nosuch'"),
        (&["kbench", "m5"][..], "possible values: m4, m7, m4-int, m4-c, m4-c-int, rv32, m0plus"),
        (&["bench", "m4", "nosuch"][..], "invalid value 'nosuch'"),
        (&["bench", "--model"][..], "a value is required for '--model <PATH>'"),
        (&["bench", "--out"][..], "a value is required for '--out <DIR>'"),
        (&["nosuch"][..], "unrecognized subcommand 'nosuch'"),
        (&[][..], "Usage: cargo xtask <COMMAND>"),
    ] {
        let o = xtask(args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {t}");
        assert!(t.contains(expect) && !t.contains("backtrace"), "{args:?}: {t}");
    }
}

#[test]
fn task_errors_exit_1_with_the_cause() {
    let o = xtask(&["demo", "--model", "/nonexistent/model.dqem"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("/nonexistent/model.dqem") && !t.contains("stack backtrace"), "{t}");
}
