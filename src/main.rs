//! The `layerscope` binary: parse flags, pick a source and a renderer, map errors to exit
//! codes (0 ok, 1 usage or I/O error, 2 not a readable capture). A closed pipe exits 0.

mod cli;

use clap::Parser;
use cli::commands::{self, is_broken_pipe, Failure};
use cli::{Cli, Command};
use std::io::{self, Write};
use std::process::ExitCode;

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
        Command::Read(args) => commands::read(args),
        Command::Live(args) => commands::live(args),
        Command::Interfaces => commands::interfaces(),
        Command::Doctor => commands::doctor(),
        Command::Explain(args) => commands::explain(args),
        Command::Ladder(args) => commands::ladder(args),
        Command::Follow(args) => commands::follow(args),
        Command::Graph(args) => commands::graph(args),
        Command::Report(args) => commands::report(args),
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
