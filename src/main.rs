//! The `layerscope` binary: parse flags, pick a source and a renderer, map errors to exit
//! codes (0 ok, 1 usage or I/O error, 2 not a readable capture). A closed pipe exits 0.

mod cli;

use clap::Parser;
use cli::{Cli, ColorArg, Command, FollowArgs, FormatArg, OutputArgs, ReadArgs};
use layerscope::capture::{CaptureError, FileSource, FrameSource};
use layerscope::filter::Filter;
use layerscope::pipeline::{self, DiscardSink, Pipeline, PipelineConfig, RunEnd, Sink};
use layerscope::render::follow::FollowTap;
use layerscope::render::ColorChoice;
use layerscope::render::{ConnFilter, JsonSink, TableSink};
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Read(args) => read(args),
        Command::Follow(args) => follow(args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "layerscope", &mut io::stdout());
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            match clap_mangen::Man::new(cmd).render(&mut io::stdout()) {
                Ok(()) => Ok(0),
                Err(e) if is_broken_pipe(&e) => Ok(0),
                Err(e) => Err(Failure {
                    code: 1,
                    message: format!("writing the man page: {e}"),
                }),
            }
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            let _ = writeln!(io::stderr(), "layerscope: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

fn open_failure(name: &str, e: CaptureError) -> Failure {
    match e {
        CaptureError::Io(io) => Failure {
            code: 1,
            message: format!("{name}: {}", io_message(&io)),
        },
        other => Failure {
            code: 2,
            message: format!("{name}: {other}"),
        },
    }
}

fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Parses a `--filter` expression; a bad one is a usage error pointing at the token.
fn parse_filter(expr: &str) -> Result<Filter, Failure> {
    Filter::parse(expr).map_err(|e| Failure {
        code: 1,
        message: format!("bad filter: {e}\n{}", e.caret(expr)),
    })
}

fn open_file(path: &std::path::Path) -> Result<FileSource, Failure> {
    let name = path.display().to_string();
    if path.is_dir() {
        return Err(Failure {
            code: 1,
            message: format!("{name}: is a directory, not a capture file"),
        });
    }
    FileSource::open(path).map_err(|e| open_failure(&name, e))
}

fn follow(args: FollowArgs) -> Result<u8, Failure> {
    let name = args.file.display().to_string();
    let mut source = open_file(&args.file)?;
    if let Some(dir) = &args.raw {
        std::fs::create_dir_all(dir).map_err(|e| Failure {
            code: 1,
            message: format!("{}: {}", dir.display(), io_message(&e)),
        })?;
    }
    let color = match args.color {
        ColorArg::Auto => ColorChoice::Auto,
        ColorArg::Always => ColorChoice::Always,
        ColorArg::Never => ColorChoice::Never,
    }
    .enabled(io::stdout().is_terminal());
    let out = io::BufWriter::new(io::stdout());
    let (tap, report) = FollowTap::new(args.conn, out, color, args.raw.clone());
    let mut pipeline = Pipeline::new(args.limits.pipeline_config());
    pipeline.set_tap(Box::new(tap));
    let end = pipeline::run_pipeline(&mut source, &mut pipeline, &mut DiscardSink);
    drop(pipeline.take_tap());
    let end = end.map_err(|e| Failure {
        code: 1,
        message: format!("{e}"),
    })?;
    let report = report.borrow();
    if let Some(e) = &report.error {
        if !is_broken_pipe(e) {
            return Err(Failure {
                code: 1,
                message: format!("writing output: {e}"),
            });
        }
    }
    if let RunEnd::Failed(_, e) = end {
        return Err(Failure {
            code: 2,
            message: format!("{name}: {e}"),
        });
    }
    if !report.seen {
        return Err(Failure {
            code: 1,
            message: format!(
                "{name}: connection {} carried no stream data (see `layerscope read {name} --view conns` for the ids)",
                args.conn
            ),
        });
    }
    Ok(0)
}

fn read(args: ReadArgs) -> Result<u8, Failure> {
    let name = args.file.display().to_string();
    let mut source = open_file(&args.file)?;
    let config = args.limits.pipeline_config();
    run_source(&name, &mut source, config, &args.output)
}

/// Runs a source into the sink the flags ask for, then reports how it ended.
fn run_source(
    name: &str,
    source: &mut dyn FrameSource,
    config: PipelineConfig,
    output: &OutputArgs,
) -> Result<u8, Failure> {
    let stdout = io::stdout();
    let is_terminal = stdout.is_terminal();
    let out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut sink: Box<dyn Sink> = match output.format {
        FormatArg::Json => Box::new(JsonSink::new(out)),
        FormatArg::Table => Box::new(TableSink::new(out, output.table_options(is_terminal))),
    };
    if !output.conns.is_empty() {
        sink = Box::new(ConnFilter::new(sink, output.conns.clone()));
    }
    let mut pipe = Pipeline::new(config);
    if let Some(expr) = &output.filter {
        pipe.set_filter(parse_filter(expr)?);
    }
    let end = match pipeline::run_pipeline(source, &mut pipe, &mut sink) {
        Ok(end) => end,
        Err(e) if is_broken_pipe(&e) => return Ok(0),
        Err(e) => {
            return Err(Failure {
                code: 1,
                message: format!("writing output: {e}"),
            })
        }
    };
    drop(sink);
    let summary = match &end {
        RunEnd::Complete(s) | RunEnd::Failed(s, _) => s,
    };
    if let Some(t) = &summary.truncated {
        let _ = writeln!(io::stderr(), "layerscope: warning: {name}: {t}");
    }
    match end {
        RunEnd::Complete(_) => Ok(0),
        RunEnd::Failed(_, e) => Err(Failure {
            code: if matches!(e, CaptureError::Io(_)) {
                1
            } else {
                2
            },
            message: format!("{name}: {e}"),
        }),
    }
}
