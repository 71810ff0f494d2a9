//! What each subcommand does: open a source, build the pipeline, pick the renderer, and
//! map every error to an exit code (0 ok, 1 usage or I/O error, 2 not a readable capture).

use super::{
    BackendArg, ExplainArgs, FollowArgs, FormatArg, GraphArgs, GraphDirArg, GraphFormatArg,
    GraphKindArg, LadderArgs, LadderFormatArg, LiveArgs, OutputArgs, ReadArgs, ReportArgs, ViewArg,
};
use layerscope::capture::{CaptureError, FileSource, FrameSource};
use layerscope::filter::Filter;
use layerscope::pipeline::{self, DiscardSink, Pipeline, PipelineConfig, RunEnd, Sink};
use layerscope::render::follow::{FollowOptions, FollowTap};
use layerscope::render::report::{ReportLimits, ReportOptions, ReportSink};
use layerscope::render::{ConnFilter, JsonRecords, JsonSink, TableSink, View};
use std::io::{self, IsTerminal, Write};

/// An error with the exit code it maps to.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

pub fn is_broken_pipe(e: &io::Error) -> bool {
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
    open_file_with(path, false)
}

/// Opens a capture file, read on a thread of its own when `read_ahead`.
fn open_file_with(path: &std::path::Path, read_ahead: bool) -> Result<FileSource, Failure> {
    let name = path.display().to_string();
    if path.is_dir() {
        return Err(Failure {
            code: 1,
            message: format!("{name}: is a directory, not a capture file"),
        });
    }
    let source = if read_ahead {
        FileSource::open_read_ahead(path)
    } else {
        FileSource::open(path)
    };
    source.map_err(|e| open_failure(&name, e))
}

pub fn follow(args: FollowArgs) -> Result<u8, Failure> {
    let name = args.file.display().to_string();
    let mut source = open_file(&args.file)?;
    if let Some(dir) = &args.raw {
        std::fs::create_dir_all(dir).map_err(|e| Failure {
            code: 1,
            message: format!("{}: {}", dir.display(), io_message(&e)),
        })?;
    }
    let is_terminal = io::stdout().is_terminal();
    let display = &args.display;
    let watch = std::sync::Arc::new(layerscope::app::follow_watch::FollowWatch::new(args.conn));
    let opts = FollowOptions {
        color: display.color_choice().enabled(is_terminal),
        // Fold at --width, or at the terminal's width; never when piped without --width.
        width: if display.width.is_some() || is_terminal {
            Some(display.view_width())
        } else {
            None
        },
        time: display.time_format.map(|_| display.time_format()),
        first_ts: first_timestamp(&args.file),
        raw_dir: args.raw.clone(),
        watch: Some(std::sync::Arc::clone(&watch)),
        stream: args.stream,
    };
    let out = io::BufWriter::new(io::stdout());
    let (tap, report) = FollowTap::new(args.conn, out, opts);
    let mut config = args.limits.pipeline_config();
    config.app.follow_watch = Some(watch);
    let mut pipeline = Pipeline::new(config);
    pipeline.set_tap(Box::new(tap));
    let mut sink = WarnToStderr::new(DiscardSink, &name);
    let end = pipeline::run_pipeline(&mut source, &mut pipeline, &mut sink);
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

/// Files at least this big get a progress bar (on a terminal, never with JSON).
const PROGRESS_MIN_BYTES: u64 = 50_000_000;

/// A file source that moves a progress bar on stderr as it reads.
struct Progress {
    inner: FileSource,
    bar: indicatif::ProgressBar,
    frames: u64,
}

impl FrameSource for Progress {
    fn next_frame(&mut self) -> Result<Option<layerscope::capture::RawFrame<'_>>, CaptureError> {
        self.next_frame_with_chunk().map(|f| f.map(|(f, _)| f))
    }
    fn truncation(&self) -> Option<&layerscope::capture::Truncation> {
        self.inner.truncation()
    }
    fn counts(&self) -> layerscope::capture::SourceCounts {
        self.inner.counts()
    }
    fn next_frame_with_chunk(
        &mut self,
    ) -> Result<
        Option<(
            layerscope::capture::RawFrame<'_>,
            Option<&std::sync::Arc<Vec<u8>>>,
        )>,
        CaptureError,
    > {
        self.frames += 1;
        if self.frames % 16_384 == 0 {
            self.bar.set_position(self.inner.offset());
        }
        let frame = self.inner.next_frame_with_chunk();
        if matches!(frame, Ok(None) | Err(_)) {
            self.bar.finish_and_clear();
        }
        frame
    }
    fn recycle_shared(&mut self, chunk: std::sync::Arc<Vec<u8>>) {
        self.inner.recycle_shared(chunk)
    }
}

/// `read --backend libpcap`: libpcap opens the file and applies the filter itself.
fn read_with_libpcap(args: &ReadArgs) -> Result<u8, Failure> {
    let [file] = args.files.as_slice() else {
        return Err(Failure {
            code: 1,
            message: "--backend libpcap reads one file; the built-in reader merges several".into(),
        });
    };
    let name = file.display().to_string();
    #[cfg(feature = "libpcap")]
    {
        if file.is_dir() {
            return Err(Failure {
                code: 1,
                message: format!("{name}: is a directory, not a capture file"),
            });
        }
        let mut source =
            layerscope::capture::PcapSource::open_file(file, args.output.filter.as_deref())
                .map_err(|e| open_failure(&name, e))?;
        let mut config = args.limits.pipeline_config();
        fit_to_output(&mut config, &args.output);
        let pipe = Pipeline::new(config);
        run_with(&name, &mut source, pipe, &args.output, false)
    }
    #[cfg(not(feature = "libpcap"))]
    Err(Failure {
        code: 1,
        message: format!(
            "{name}: this layerscope was built without libpcap: rebuild with \
             `cargo install --path . --features libpcap` (needs libpcap-dev)"
        ),
    })
}

/// The capture files `read` names: folders replaced by the capture files in them.
fn expand_inputs(paths: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>, Failure> {
    if let [one] = paths {
        if !one.is_dir() {
            return Ok(vec![one.clone()]);
        }
    }
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let found = layerscope::capture::capture_files_in(p).map_err(|e| Failure {
                code: 1,
                message: format!("{}: {}", p.display(), io_message(&e)),
            })?;
            if found.is_empty() {
                return Err(Failure {
                    code: 1,
                    message: format!(
                        "{}: is a directory with no capture files (.pcap, .pcapng, .cap, .pcapN)",
                        p.display()
                    ),
                });
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// `read` of several files: one capture, merged in timestamp order.
fn read_merged(args: &ReadArgs, files: Vec<std::path::PathBuf>) -> Result<u8, Failure> {
    if files.iter().any(|f| f.as_os_str() == "-") {
        return Err(Failure {
            code: 1,
            message: "standard input (-) cannot be merged with other files".into(),
        });
    }
    let name = format!("{} files", files.len());
    let names = files.clone();
    let mut source = layerscope::capture::MergedSource::open(files).map_err(|(i, e)| {
        let file = names
            .get(i)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        open_failure(&file, e)
    })?;
    let mut config = args.limits.pipeline_config();
    config.threads = read_threads(args.threads);
    fit_to_output(&mut config, &args.output);
    let mut pipe = Pipeline::new(config);
    if let Some(expr) = &args.output.filter {
        pipe.set_filter(parse_filter(expr)?);
    }
    let names: Vec<String> = names.iter().map(|p| p.display().to_string()).collect();
    let sink = make_sink(&args.output, false, &names)?;
    run_into(&name, &mut source, pipe, sink)
}

/// `read --per-file [--jobs N]`: each file its own capture, its outputs in `--out
/// DIR/NAME/`, up to N files at once (one thread each). Failures are reported per file; the
/// exit code is the worst.
fn read_per_file(args: &ReadArgs, files: Vec<std::path::PathBuf>) -> Result<u8, Failure> {
    let Some(out) = args.output.out.clone() else {
        return Err(Failure {
            code: 1,
            message: "--per-file writes each file's outputs into --out DIR/NAME/".into(),
        });
    };
    if !matches!(
        args.output.format,
        FormatArg::Zeek | FormatArg::ZeekJson | FormatArg::Parquet
    ) {
        return Err(Failure {
            code: 1,
            message: "--per-file needs a format that writes files: zeek, zeek-json or parquet"
                .into(),
        });
    }
    // One folder per file, by its name (a repeated name gets -2, -3, …).
    let mut seen = std::collections::HashMap::new();
    let mut work = std::collections::VecDeque::new();
    for f in files {
        let stem = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "input".into());
        let n = seen.entry(stem.clone()).or_insert(0u32);
        *n += 1;
        let dir = if *n == 1 { stem } else { format!("{stem}-{n}") };
        work.push_back((f, out.join(dir)));
    }
    let work = std::sync::Mutex::new(work);
    let worst = std::sync::atomic::AtomicU8::new(0);
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.max(1) {
            scope.spawn(|| loop {
                let next = work.lock().ok().and_then(|mut w| w.pop_front());
                let Some((file, dir)) = next else {
                    break;
                };
                let mut output = args.output.clone();
                output.out = Some(dir);
                let result = open_file(&file).and_then(|mut source| {
                    let mut config = args.limits.pipeline_config();
                    config.threads = 1;
                    run_source(&file.display().to_string(), &mut source, config, &output)
                });
                let code = match result {
                    Ok(code) => code,
                    Err(f) => {
                        let _ = writeln!(io::stderr(), "layerscope: {}", f.message);
                        f.code
                    }
                };
                worst.fetch_max(code, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    Ok(worst.into_inner())
}

pub fn read(args: ReadArgs) -> Result<u8, Failure> {
    if args.backend == super::FileBackendArg::Libpcap {
        return read_with_libpcap(&args);
    }
    let mut files = expand_inputs(&args.files)?;
    if args.per_file {
        return read_per_file(&args, files);
    }
    if files.len() > 1 {
        return read_merged(&args, files);
    }
    let file = files.pop().unwrap_or_default();
    let name = file.display().to_string();
    let threads = read_threads(args.threads);
    // With two threads the file is also read on a thread of its own.
    let source = open_file_with(&file, threads > 1)?;
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    if size >= PROGRESS_MIN_BYTES
        && io::stderr().is_terminal()
        && args.output.format == FormatArg::Table
    {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(size),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        let mut progress = Progress {
            inner: source,
            bar,
            frames: 0,
        };
        let mut config = args.limits.pipeline_config();
        config.threads = threads;
        return run_source(&name, &mut progress, config, &args.output);
    }
    let mut source = source;
    let mut config = args.limits.pipeline_config();
    config.threads = threads;
    run_source(&name, &mut source, config, &args.output)
}

/// `read --threads`, else 2 when the machine has more than one core.
fn read_threads(threads: Option<u8>) -> usize {
    match threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism()
            .map(|n| n.get().min(2))
            .unwrap_or(1),
    }
}

/// Bad records printed to stderr before only their count is.
const MAX_WARNINGS_SHOWN: u64 = 10;

/// Passes everything to `inner` and also prints the first bad records skipped to stderr
/// (one line each, naming the file, the packet and the byte offset), then their count.
struct WarnToStderr<S> {
    inner: S,
    name: String,
    count: u64,
}

impl<S: Sink> WarnToStderr<S> {
    fn new(inner: S, name: &str) -> WarnToStderr<S> {
        WarnToStderr {
            inner,
            name: name.to_string(),
            count: 0,
        }
    }
}

impl<S: Sink> Sink for WarnToStderr<S> {
    fn wants_packets(&self) -> bool {
        self.inner.wants_packets()
    }
    fn packet(
        &mut self,
        frame: &layerscope::capture::RawFrame<'_>,
        packet: &layerscope::decode::DecodedPacket<'_>,
        flow: &layerscope::flow::PacketFlow,
    ) -> io::Result<()> {
        self.inner.packet(frame, packet, flow)
    }
    fn app_event(&mut self, event: &layerscope::app::AppEvent) -> io::Result<()> {
        self.inner.app_event(event)
    }
    fn wants_app_events(&self) -> bool {
        self.inner.wants_app_events()
    }
    fn conn_end(
        &mut self,
        conn: &layerscope::flow::ConnSummary,
        app: &layerscope::app::AppConnStats,
    ) -> io::Result<()> {
        self.inner.conn_end(conn, app)
    }
    fn warning(&mut self, error: &CaptureError) -> io::Result<()> {
        self.count += 1;
        if self.count <= MAX_WARNINGS_SHOWN {
            let _ = writeln!(
                io::stderr(),
                "layerscope: warning: {}: {error} (skipped)",
                self.name
            );
        }
        self.inner.warning(error)
    }
    fn finish(&mut self, summary: &pipeline::RunSummary) -> io::Result<()> {
        if self.count > MAX_WARNINGS_SHOWN {
            let _ = writeln!(
                io::stderr(),
                "layerscope: warning: {}: {} more bad records skipped",
                self.name,
                self.count - MAX_WARNINGS_SHOWN
            );
        }
        self.inner.finish(summary)
    }
}

/// Runs a source into the sink the flags ask for, then reports how it ended.
fn run_source(
    name: &str,
    source: &mut dyn FrameSource,
    mut config: PipelineConfig,
    output: &OutputArgs,
) -> Result<u8, Failure> {
    fit_to_output(&mut config, output);
    let mut pipe = Pipeline::new(config);
    if let Some(expr) = &output.filter {
        pipe.set_filter(parse_filter(expr)?);
    }
    run_with(name, source, pipe, output, false)
}

/// Leaves out what the output cannot show: packet notes ([`shows_notes`]) and HTTP
/// details (URI, Host, versions, notes) when no HTTP record is written.
fn fit_to_output(config: &mut PipelineConfig, output: &OutputArgs) {
    config.flow.notes = shows_notes(output);
    config.app.http_details = !matches!(
        (&output.format, &output.view),
        (
            FormatArg::Json,
            Some(ViewArg::Conns | ViewArg::Dns | ViewArg::Tls)
        )
    );
}

/// Whether the output shows packet notes: not when JSON is narrowed by a view to records
/// without packets (conns, http, dns, tls), nor in the http/dns/tls tables, so the flow
/// tracker need not format them.
fn shows_notes(output: &OutputArgs) -> bool {
    match (&output.format, &output.view) {
        (FormatArg::Json, Some(ViewArg::Conns | ViewArg::Http | ViewArg::Dns | ViewArg::Tls)) => {
            false
        }
        // Logs and tables of records: no packet rows.
        (FormatArg::Zeek | FormatArg::ZeekJson | FormatArg::Parquet, _) => false,
        // Tables of application records show no packet (unless --teach tells the story).
        (FormatArg::Table, Some(ViewArg::Http | ViewArg::Dns | ViewArg::Tls)) => output.teach,
        _ => true,
    }
}

/// The renderer the output flags ask for. `live`: rows stream (flushed per packet).
/// `files`: the input files' names when several are read as one capture (JSON `packet`
/// records then name theirs).
fn make_sink(output: &OutputArgs, live: bool, files: &[String]) -> Result<Box<dyn Sink>, Failure> {
    let stdout = io::stdout();
    let is_terminal = stdout.is_terminal();
    let out = io::BufWriter::with_capacity(if live { 1 << 12 } else { 1 << 16 }, stdout);
    let mut sink: Box<dyn Sink> = match output.format {
        FormatArg::Json => {
            let mut s = JsonSink::new(out);
            s.flush_each = live;
            s.set_community_id_seed(output.community_id_seed);
            if files.len() > 1 {
                s.set_file_names(files).map_err(|e| Failure {
                    code: 1,
                    message: format!("{e}"),
                })?;
            }
            // A view narrows JSON to its own records (the default view writes them all).
            s.records = match output.view {
                Some(ViewArg::Conns) => JsonRecords {
                    conns: true,
                    ..JsonRecords::NONE
                },
                Some(ViewArg::Http) => JsonRecords {
                    http: true,
                    ..JsonRecords::NONE
                },
                Some(ViewArg::Dns) => JsonRecords {
                    dns: true,
                    ..JsonRecords::NONE
                },
                Some(ViewArg::Tls) => JsonRecords {
                    tls: true,
                    ..JsonRecords::NONE
                },
                _ => JsonRecords::ALL,
            };
            Box::new(s)
        }
        FormatArg::Zeek | FormatArg::ZeekJson => Box::new(zeek_sink(output)?),
        FormatArg::Parquet => Box::new(parquet_sink(output)?),
        FormatArg::Table if output.view == Some(ViewArg::Rtt) => Box::new(
            layerscope::render::graph::RttViewSink::new(out, output.conns.clone()),
        ),
        FormatArg::Table if output.view == Some(ViewArg::Timing) => Box::new(
            layerscope::render::graph::timing_table::TimingViewSink::new(out, output.conns.clone()),
        ),
        FormatArg::Table => {
            let mut opts = output.table_options(is_terminal);
            if live {
                opts.flush_each = true;
                opts.blocks_at_end = opts.view == View::Packets;
            }
            Box::new(TableSink::new(out, opts))
        }
    };
    if !output.conns.is_empty() {
        sink = Box::new(ConnFilter::new(sink, output.conns.clone()));
    }
    Ok(sink)
}

/// The Parquet writer `--format parquet --out DIR` asks for.
fn parquet_sink(output: &OutputArgs) -> Result<layerscope::render::parquet::ParquetSink, Failure> {
    let Some(dir) = &output.out else {
        return Err(Failure {
            code: 1,
            message: "--format parquet writes files: give the folder with --out DIR".into(),
        });
    };
    let mut sink =
        layerscope::render::parquet::ParquetSink::new(dir.clone()).map_err(|e| Failure {
            code: 1,
            message: format!("{}: {}", dir.display(), io_message(&e)),
        })?;
    sink.set_community_id_seed(output.community_id_seed);
    if output.parquet_packets {
        sink.with_packets().map_err(|e| Failure {
            code: 1,
            message: format!("{}: {}", dir.display(), io_message(&e)),
        })?;
    }
    Ok(sink)
}

/// The Zeek log writer `--format zeek|zeek-json --out DIR` asks for.
fn zeek_sink(output: &OutputArgs) -> Result<layerscope::render::zeek::ZeekSink, Failure> {
    use layerscope::render::zeek::{ZeekFormat, ZeekSink};
    let Some(dir) = &output.out else {
        return Err(Failure {
            code: 1,
            message: "--format zeek and zeek-json write files: give the folder with --out DIR"
                .into(),
        });
    };
    let format = match output.format {
        FormatArg::ZeekJson => ZeekFormat::Json,
        _ => ZeekFormat::Tsv,
    };
    // Uids keyed per run (as Zeek's are random per run), from the clock and the process.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let key = (now, u64::from(std::process::id()));
    let mut sink = ZeekSink::new(dir.clone(), format, key).map_err(|e| Failure {
        code: 1,
        message: format!("{}: {}", dir.display(), io_message(&e)),
    })?;
    sink.set_community_id_seed(output.community_id_seed);
    Ok(sink)
}

fn run_with(
    name: &str,
    source: &mut dyn FrameSource,
    pipe: Pipeline,
    output: &OutputArgs,
    live: bool,
) -> Result<u8, Failure> {
    let sink = make_sink(output, live, &[])?;
    run_into(name, source, pipe, sink)
}

/// Runs `source` through `pipe` into `sink`, then reports how it ended.
fn run_into(
    name: &str,
    source: &mut dyn FrameSource,
    mut pipe: Pipeline,
    sink: Box<dyn Sink>,
) -> Result<u8, Failure> {
    let mut sink = WarnToStderr::new(sink, name);
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
        // Cut inside the file header itself: nothing in it is readable.
        if t.offset == 0 && t.last_frame == 0 {
            return Err(Failure {
                code: 2,
                message: format!(
                    "{name}: not a readable capture: the file ends inside its header (byte offset 0: needed {} bytes, had {})",
                    t.needed, t.had
                ),
            });
        }
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

/// The time of a capture file's first packet (relative times count from it); None for
/// standard input, which cannot be read twice.
fn first_timestamp(path: &std::path::Path) -> Option<layerscope::capture::Timestamp> {
    if path == std::path::Path::new("-") {
        return None;
    }
    let mut source = FileSource::open(path).ok()?;
    let ts = source.next_frame().ok()??.ts;
    Some(ts)
}

/// Runs a whole file through a pipeline into `sink`; maps errors as `read` does.
fn run_file_into(
    path: &std::path::Path,
    config: PipelineConfig,
    sink: &mut dyn Sink,
) -> Result<(), Failure> {
    let name = path.display().to_string();
    let mut source = open_file(path)?;
    match pipeline::run(&mut source, config, sink) {
        Ok(RunEnd::Complete(_)) => Ok(()),
        Ok(RunEnd::Failed(_, e)) => Err(Failure {
            code: 2,
            message: format!("{name}: {e}"),
        }),
        Err(e) if is_broken_pipe(&e) => Ok(()),
        Err(e) => Err(Failure {
            code: 1,
            message: format!("writing output: {e}"),
        }),
    }
}

pub fn explain(args: ExplainArgs) -> Result<u8, Failure> {
    use layerscope::render::explain::{ExplainOptions, ExplainSink};
    let out = io::BufWriter::new(io::stdout());
    let mut sink = ExplainSink::new(
        out,
        ExplainOptions {
            frame: args.frame,
            color: args.display.color_on_stdout(),
            width: args.display.view_width(),
            time_format: args.display.time_format(),
        },
    );
    let mut config = args.limits.pipeline_config();
    let watch = std::sync::Arc::new(layerscope::app::RecordWatch::new(args.frame));
    config.app.record_watch = Some(std::sync::Arc::clone(&watch));
    let keylog = config.app.keylog.is_some();
    run_file_into(&args.file, config, &mut sink)?;
    if !sink.found() {
        return Err(Failure {
            code: 1,
            message: format!("{}: there is no frame {}", args.file.display(), args.frame),
        });
    }
    let tls = sink.frame_has_tls();
    let quic = sink.frame_has_quic();
    let mut out = sink.into_inner();
    let _ =
        layerscope::render::explain_tls::write_tls_records(&mut out, &watch.take(), keylog, tls);
    let _ = layerscope::render::explain_quic::write_quic_packets(
        &mut out,
        &watch.take_quic(),
        keylog,
        quic,
    );
    let _ = out.flush();
    Ok(0)
}

pub fn ladder(args: LadderArgs) -> Result<u8, Failure> {
    use layerscope::render::ladder::{LadderFormat, LadderOptions, LadderSink};
    let out = io::BufWriter::new(io::stdout());
    let format = match args.format {
        LadderFormatArg::Text => LadderFormat::Text,
        LadderFormatArg::Svg => LadderFormat::Svg,
    };
    let mut sink = LadderSink::with_format(
        out,
        LadderOptions {
            conn: args.conn,
            full: args.full,
            width: args.display.view_width(),
            color: args.display.color_on_stdout(),
            time_format: args.display.time_format(),
            ..LadderOptions::default()
        },
        format,
    );
    run_file_into(&args.file, args.limits.pipeline_config(), &mut sink)?;
    if !sink.found() {
        return Err(Failure {
            code: 1,
            message: format!(
                "{}: there is no connection {} (see `layerscope read {} --view conns`)",
                args.file.display(),
                args.conn,
                args.file.display()
            ),
        });
    }
    let _ = sink.into_inner().flush();
    Ok(0)
}

pub fn graph(args: GraphArgs) -> Result<u8, Failure> {
    use layerscope::render::graph::{
        self, capture::CaptureTimeline, GraphFormat, GraphKind, GraphOptions, TraceSink,
    };
    let kind = match (args.kind, args.conn) {
        (GraphKindArg::Seq, Some(_)) => GraphKind::Seq,
        (GraphKindArg::Tcptrace, Some(_)) => GraphKind::Tcptrace,
        (GraphKindArg::Rtt, Some(_)) => GraphKind::Rtt,
        (GraphKindArg::Throughput, Some(_)) => GraphKind::Throughput,
        (GraphKindArg::Window, Some(_)) => GraphKind::Window,
        (GraphKindArg::Throughput, None) => GraphKind::CaptureThroughput,
        (GraphKindArg::Conns, None) => GraphKind::Connections,
        (GraphKindArg::Conns, Some(_)) => {
            return Err(Failure {
                code: 1,
                message: "--kind conns graphs the whole capture: leave out --conn".into(),
            })
        }
        (k, None) => {
            return Err(Failure {
                code: 1,
                message: format!(
                    "--kind {} graphs one TCP connection: give --conn ID (see `layerscope read {} --view conns`); without --conn, --kind throughput or conns graph the whole capture",
                    clap::ValueEnum::to_possible_value(&k).map_or_else(String::new, |v| v.get_name().to_string()),
                    args.file.display()
                ),
            })
        }
    };
    let mut sink = TraceSink::new(args.conn.into_iter().collect());
    let mut timeline = CaptureTimeline::new();
    if kind.of_capture() {
        run_file_into(&args.file, args.limits.pipeline_config(), &mut timeline)?;
    } else {
        run_file_into(&args.file, args.limits.pipeline_config(), &mut sink)?;
    }
    let trace = match args.conn {
        Some(conn) => match sink.traces.get(&conn) {
            Some(t) => Some(t),
            None => {
                return Err(Failure {
                    code: 1,
                    message: format!(
                        "{}: there is no TCP connection {} (see `layerscope read {} --view conns`)",
                        args.file.display(),
                        conn,
                        args.file.display()
                    ),
                })
            }
        },
        None => None,
    };
    let opts = GraphOptions {
        kind,
        format: match args.format {
            GraphFormatArg::Text => GraphFormat::Text,
            GraphFormatArg::Svg => GraphFormat::Svg,
        },
        width: args.display.view_width(),
        color: args.format == GraphFormatArg::Text && args.display.color_on_stdout(),
        teach: args.teach,
        dir: args.dir.map(|d| match d {
            GraphDirArg::Client => layerscope::flow::Direction::ToServer,
            GraphDirArg::Server => layerscope::flow::Direction::ToClient,
        }),
    };
    let text = match trace {
        Some(trace) => graph::render(trace, &opts),
        None => graph::render_capture(&timeline, &opts),
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if !is_broken_pipe(&e) => Err(Failure {
            code: 1,
            message: format!("writing output: {e}"),
        }),
        _ => Ok(0),
    }
}

/// A live capture backend.
enum LiveBackend {
    #[cfg(target_os = "linux")]
    Pnet(layerscope::capture::LiveSource),
    #[cfg(feature = "libpcap")]
    Pcap(layerscope::capture::PcapSource),
}

impl LiveBackend {
    fn stats(&mut self) -> layerscope::capture::LiveStats {
        match self {
            #[cfg(target_os = "linux")]
            LiveBackend::Pnet(s) => s.stats(),
            #[cfg(feature = "libpcap")]
            LiveBackend::Pcap(s) => s.stats(),
        }
    }
    fn link_type(&self) -> layerscope::capture::LinkType {
        match self {
            #[cfg(target_os = "linux")]
            LiveBackend::Pnet(s) => s.link_type(),
            #[cfg(feature = "libpcap")]
            LiveBackend::Pcap(s) => s.link_type(),
        }
    }
    fn source(&mut self) -> &mut dyn FrameSource {
        match self {
            #[cfg(target_os = "linux")]
            LiveBackend::Pnet(s) => s,
            #[cfg(feature = "libpcap")]
            LiveBackend::Pcap(s) => s,
        }
    }
}

fn live_failure(e: layerscope::capture::LiveError) -> Failure {
    Failure {
        code: 1,
        message: e.to_string(),
    }
}

fn open_live(
    args: &LiveArgs,
    options: &layerscope::capture::LiveOptions,
) -> Result<LiveBackend, Failure> {
    match args.backend {
        BackendArg::Pnet => {
            #[cfg(target_os = "linux")]
            {
                layerscope::capture::LiveSource::open(&args.interface, options)
                    .map(LiveBackend::Pnet)
                    .map_err(live_failure)
            }
            #[cfg(not(target_os = "linux"))]
            {
                let _ = options;
                Err(Failure {
                    code: 1,
                    message: "the built-in (AF_PACKET) backend needs Linux: use --backend libpcap"
                        .into(),
                })
            }
        }
        BackendArg::Libpcap => {
            #[cfg(feature = "libpcap")]
            {
                layerscope::capture::PcapSource::open_live(&args.interface, options)
                    .map(LiveBackend::Pcap)
                    .map_err(live_failure)
            }
            #[cfg(not(feature = "libpcap"))]
            {
                let _ = options;
                Err(Failure {
                    code: 1,
                    message: "this layerscope was built without libpcap: rebuild with \
                              `cargo install --path . --features libpcap` (needs libpcap-dev)"
                        .into(),
                })
            }
        }
    }
}

pub fn live(mut args: LiveArgs) -> Result<u8, Failure> {
    use layerscope::capture::{LiveOptions, PcapWriter, TeeSource};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    if args.output.view.is_none() {
        args.output.view = Some(super::ViewArg::Packets);
    }
    // The userspace filter is parsed first, so a syntax error never opens a capture.
    let user_filter = match (&args.output.filter, args.backend) {
        (Some(expr), BackendArg::Pnet) => Some(parse_filter(expr)?),
        _ => None,
    };
    let mut options = LiveOptions {
        promisc: !args.no_promisc,
        buffer_size: args.buffer_size,
        duration: args
            .duration
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(std::time::Duration::from_secs_f64),
        ..LiveOptions::default()
    };
    if let Some(snaplen) = args.snaplen {
        options.snaplen = snaplen.max(64);
    }
    if args.backend == BackendArg::Libpcap {
        options.filter = args.output.filter.clone();
    }
    let mut backend = open_live(&args, &options)?;
    let _ = writeln!(
        io::stderr(),
        "layerscope: listening on {} (link type {}, snaplen {} bytes, backend {})",
        args.interface,
        backend.link_type().name(),
        options.snaplen,
        match args.backend {
            BackendArg::Pnet => "AF_PACKET",
            BackendArg::Libpcap => "libpcap",
        }
    );
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second handler cannot be set (tests call this once per process): ignore.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    match &mut backend {
        #[cfg(target_os = "linux")]
        LiveBackend::Pnet(s) => s.set_stop(stop.clone()),
        #[cfg(feature = "libpcap")]
        LiveBackend::Pcap(s) => s.set_stop(stop.clone()),
    }
    // The save file is opened before privileges are dropped.
    let writer = match &args.write {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| Failure {
                code: 1,
                message: format!("{}: {}", path.display(), io_message(&e)),
            })?;
            Some(
                PcapWriter::new(
                    io::BufWriter::new(file),
                    backend.link_type(),
                    options.snaplen,
                    false,
                )
                .map_err(|e| Failure {
                    code: 1,
                    message: format!("{}: {e}", path.display()),
                })?,
            )
        }
        None => None,
    };
    #[cfg(target_os = "linux")]
    if !args.no_drop_privileges {
        layerscope::capture::drop_privileges(&args.user).map_err(live_failure)?;
    }
    let mut config = args.limits.pipeline_config();
    fit_to_output(&mut config, &args.output);
    if args.report.is_some() {
        // The report shows every packet's notes and the HTTP details.
        config.flow.notes = true;
        config.app.http_details = true;
    }
    let mut pipe = Pipeline::new(config);
    if let Some(filter) = user_filter {
        pipe.set_filter(filter);
    }
    if let Some(count) = args.count {
        pipe.set_stop_after(count);
    }
    let name = args.interface.clone();
    let mut sink = make_sink(&args.output, true, &[])?;
    if let Some(path) = &args.report {
        sink = Box::new(layerscope::render::report::WithReport {
            inner: sink,
            report: report_sink(
                path,
                &name,
                &[],
                ReportLimits::default(),
                args.output.display.time_format(),
            )?,
        });
    }
    let result = match writer {
        Some(writer) => {
            let mut tee = TeeSource {
                inner: backend.source(),
                writer,
            };
            let r = run_into(&name, &mut tee, pipe, sink);
            let _ = tee.writer.flush();
            r
        }
        None => run_into(&name, backend.source(), pipe, sink),
    };
    let stats = backend.stats();
    let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "unknown".into());
    let _ = writeln!(
        io::stderr(),
        "layerscope: {}: {} packets received, {} dropped by the kernel, {} dropped by the interface",
        name,
        stats.received,
        opt(stats.dropped_kernel),
        opt(stats.dropped_interface)
    );
    result
}

/// The report writer for `path` (created now, so a bad path fails before any reading).
fn report_sink(
    path: &std::path::Path,
    title: &str,
    conns: &[u64],
    limits: ReportLimits,
    time_format: layerscope::render::time::TimeFormat,
) -> Result<ReportSink<io::BufWriter<std::fs::File>>, Failure> {
    let file = std::fs::File::create(path).map_err(|e| Failure {
        code: 1,
        message: format!("{}: {}", path.display(), io_message(&e)),
    })?;
    let mut title = title.to_string();
    if !conns.is_empty() {
        let ids: Vec<String> = conns.iter().map(|c| c.to_string()).collect();
        title.push_str(&format!(" (conn {})", ids.join(", ")));
    }
    Ok(ReportSink::new(
        io::BufWriter::with_capacity(1 << 16, file),
        ReportOptions {
            title,
            limits,
            time_format,
        },
    ))
}

/// `layerscope report FILE… -o OUT.html`: the capture as one self-contained HTML page.
pub fn report(args: ReportArgs) -> Result<u8, Failure> {
    let files = expand_inputs(&args.files)?;
    if files.len() > 1 && files.iter().any(|f| f.as_os_str() == "-") {
        return Err(Failure {
            code: 1,
            message: "standard input (-) cannot be merged with other files".into(),
        });
    }
    let filter = args.filter.as_deref().map(parse_filter).transpose()?;
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let title = names.join(", ");
    let limits = ReportLimits {
        max_conns: args.max_conns.max(1),
        max_rows: args.max_rows.max(1),
        ..ReportLimits::default()
    };
    let mut config = args.limits.pipeline_config();
    config.threads = read_threads(None);
    config.flow.notes = true;
    config.app.http_details = true;
    let mut pipe = Pipeline::new(config);
    if let Some(f) = filter {
        pipe.set_filter(f);
    }
    let report = report_sink(
        &args.output,
        &title,
        &args.conns,
        limits,
        args.display.time_format(),
    )?;
    let sink: Box<dyn Sink> = if args.conns.is_empty() {
        Box::new(report)
    } else {
        Box::new(ConnFilter::new(report, args.conns.clone()))
    };
    let _ = &args.display;
    let code = if files.len() > 1 {
        let mut source = layerscope::capture::MergedSource::open(files)
            .map_err(|(i, e)| open_failure(names.get(i).map(String::as_str).unwrap_or(""), e))?;
        run_into(&format!("{} files", names.len()), &mut source, pipe, sink)?
    } else {
        let file = files.into_iter().next().unwrap_or_default();
        let mut source = open_file_with(&file, true)?;
        run_into(&title, &mut source, pipe, sink)?
    };
    let size = std::fs::metadata(&args.output)
        .map(|m| m.len())
        .unwrap_or(0);
    let _ = writeln!(
        io::stderr(),
        "layerscope: wrote {} ({})",
        args.output.display(),
        layerscope::render::table::human_bytes(size)
    );
    Ok(code)
}

pub fn interfaces() -> Result<u8, Failure> {
    #[cfg(target_os = "linux")]
    {
        use comfy_table::{presets, Table};
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED);
        t.set_header(vec!["name", "state", "addresses", "can capture"]);
        for i in layerscope::capture::list_interfaces() {
            let state = match (i.up, i.loopback) {
                (true, true) => "up, loopback",
                (true, false) => "up",
                (false, true) => "down, loopback",
                (false, false) => "down",
            };
            let addrs: Vec<String> = i.addresses.iter().map(|a| a.to_string()).collect();
            t.add_row(vec![
                i.name.clone(),
                state.to_string(),
                addrs.join(", "),
                if i.can_capture { "yes" } else { "no" }.to_string(),
            ]);
        }
        let mut out = io::stdout();
        match writeln!(out, "{t}") {
            Err(e) if !is_broken_pipe(&e) => Err(Failure {
                code: 1,
                message: format!("writing output: {e}"),
            }),
            _ => Ok(0),
        }
    }
    #[cfg(not(target_os = "linux"))]
    Err(Failure {
        code: 1,
        message: "listing interfaces needs Linux (or the libpcap backend)".into(),
    })
}

/// The effective user id, from /proc/self/status (Linux).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

pub fn doctor() -> Result<u8, Failure> {
    let mut lines: Vec<String> = Vec::new();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "layerscope".into());
    lines.push(format!("layerscope {}", env!("CARGO_PKG_VERSION")));
    lines.push(format!("binary: {exe}"));
    lines.push("reading files: built in (pcap and pcapng, no library needed)".into());
    lines.push(format!(
        "live capture backends: AF_PACKET via pnet ({}), libpcap ({})",
        if cfg!(target_os = "linux") {
            "yes"
        } else {
            "no: not Linux"
        },
        if cfg!(feature = "libpcap") {
            "yes"
        } else {
            "no: build with --features libpcap"
        }
    ));
    let uid = effective_uid();
    lines.push(format!(
        "user: uid {}{}",
        uid.map(|u| u.to_string())
            .unwrap_or_else(|| "unknown".into()),
        if uid == Some(0) { " (root)" } else { "" }
    ));
    #[cfg(target_os = "linux")]
    {
        let raw = layerscope::capture::has_cap_net_raw();
        let permitted = layerscope::capture::capture_permitted();
        lines.push(format!(
            "CAP_NET_RAW in the effective set: {}",
            if raw { "yes" } else { "no" }
        ));
        lines.push(format!(
            "can open a capture socket: {}",
            if permitted { "yes" } else { "no" }
        ));
        let ifaces = layerscope::capture::list_interfaces();
        let usable: Vec<&str> = ifaces
            .iter()
            .filter(|i| i.can_capture)
            .map(|i| i.name.as_str())
            .collect();
        let all: Vec<&str> = ifaces.iter().map(|i| i.name.as_str()).collect();
        lines.push(format!("interfaces: {}", all.join(", ")));
        lines.push(format!(
            "interfaces this process can capture on: {}",
            if usable.is_empty() {
                "none".to_string()
            } else {
                usable.join(", ")
            }
        ));
        if permitted {
            lines.push("verdict: this user can capture live (`layerscope live IFACE`).".into());
        } else {
            lines.push("verdict: this user cannot capture live. To allow it once, run:".into());
            lines.push(format!("  sudo setcap cap_net_raw,cap_net_admin=eip {exe}"));
            lines.push(
                "or run layerscope as root (it drops to `nobody` once the capture is open).".into(),
            );
        }
    }
    lines.push("(doctor only looks: it changes nothing)".into());
    let mut out = io::stdout();
    for l in lines {
        if let Err(e) = writeln!(out, "{l}") {
            if is_broken_pipe(&e) {
                return Ok(0);
            }
            return Err(Failure {
                code: 1,
                message: format!("writing output: {e}"),
            });
        }
    }
    Ok(0)
}
