//! Micro-benchmarks of each pipeline stage through its public API.
//!
//! Input: the first `LAYERSCOPE_BENCH_FRAMES` (default 20000) frames of
//! `$LAYERSCOPE_BENCH_PCAP` (e.g. `/tmp/layerscope-bench/K.pcap` from
//! `bench/make-captures.sh`), else the small `captures/http11-keepalive.pcap`.
//! Run: `LAYERSCOPE_BENCH_PCAP=/tmp/layerscope-bench/K.pcap cargo bench --bench stages`.
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use layerscope::app::{AppCollector, AppConfig, ConnApp};
use layerscope::capture::{FileSource, FrameSource, LinkType, RawFrame, Timestamp};
use layerscope::decode::Decoder;
use layerscope::flow::reassembly::{ReassemblyBudget, StreamChunk, StreamReassembler};
use layerscope::flow::{Direction, FlowConfig, FlowTracker, NullSink, SegmentCtx};
use std::hint::black_box;
use std::io::Cursor;

struct OwnedFrame {
    number: u64,
    ts: Timestamp,
    link: LinkType,
    interface: u32,
    orig_len: u32,
    data: Vec<u8>,
}

impl OwnedFrame {
    fn raw(&self) -> RawFrame<'_> {
        RawFrame {
            number: self.number,
            ts: self.ts,
            link: self.link,
            interface: self.interface,
            file: 0,
            orig_len: self.orig_len,
            data: &self.data,
        }
    }
}

/// The input file's bytes cut after `max` frames, and those frames.
fn input() -> (Vec<u8>, Vec<OwnedFrame>) {
    let path = std::env::var("LAYERSCOPE_BENCH_PCAP")
        .unwrap_or_else(|_| "captures/http11-keepalive.pcap".into());
    let max: usize = std::env::var("LAYERSCOPE_BENCH_FRAMES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut source = FileSource::open(std::path::Path::new(&path)).expect("benchmark capture");
    let mut frames = Vec::new();
    while let Ok(Some(f)) = source.next_frame() {
        frames.push(OwnedFrame {
            number: f.number,
            ts: f.ts,
            link: f.link,
            interface: f.interface,
            orig_len: f.orig_len,
            data: f.data.to_vec(),
        });
        if frames.len() == max {
            break;
        }
    }
    let end = source.offset() as usize;
    let mut bytes = std::fs::read(&path).expect("benchmark capture");
    bytes.truncate(end);
    (bytes, frames)
}

fn stages(c: &mut Criterion) {
    let (bytes, frames) = input();
    let n = frames.len() as u64;

    let mut g = c.benchmark_group("per_frame");
    g.throughput(Throughput::Elements(n));
    g.bench_function("reader", |b| {
        b.iter_batched(
            || Cursor::new(bytes.clone()),
            |input| {
                let mut s = FileSource::from_reader(Box::new(input)).unwrap();
                let mut total = 0usize;
                while let Ok(Some(f)) = s.next_frame() {
                    total += f.data.len();
                }
                black_box(total)
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("decoder", |b| {
        let mut decoder = Decoder::new();
        b.iter(|| {
            let mut layers = 0usize;
            for f in &frames {
                layers += decoder.decode(&f.raw()).layers.len();
            }
            black_box(layers)
        })
    });
    g.bench_function("decoder+flow_table", |b| {
        b.iter_batched(
            || (Decoder::new(), FlowTracker::new(FlowConfig::default())),
            |(mut decoder, mut flows)| {
                let mut ended = Vec::new();
                for f in &frames {
                    let raw = f.raw();
                    let p = decoder.decode(&raw);
                    black_box(flows.process(&raw, &p, &mut NullSink, &mut ended));
                    ended.clear();
                }
                flows.finish(&mut NullSink, &mut ended);
                black_box(ended.len())
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("decoder+flow+http", |b| {
        b.iter_batched(
            || {
                (
                    Decoder::new(),
                    FlowTracker::<ConnApp>::with_conn_state(FlowConfig::default()),
                    AppCollector::new(AppConfig::default()),
                )
            },
            |(mut decoder, mut flows, mut app)| {
                let mut ended = Vec::new();
                let mut events = 0usize;
                for f in &frames {
                    let raw = f.raw();
                    let p = decoder.decode(&raw);
                    black_box(flows.process(&raw, &p, &mut app, &mut ended));
                    events += app.drain_events().count();
                    for mut conn in ended.drain(..) {
                        black_box(conn.state.take_stats());
                    }
                }
                black_box(events)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // Reassembly: 1000 full-size segments in order, and the same with every pair swapped.
    let payload = vec![b'x'; 1448];
    let ctx = SegmentCtx {
        frame: 1,
        ts: Timestamp::default(),
        handshake_rtt_ns: None,
        ports: None,
    };
    let mut g = c.benchmark_group("reassembly");
    g.throughput(Throughput::Bytes(1448 * 1000));
    for (name, swap) in [("in_order", false), ("pairs_swapped", true)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut r = StreamReassembler::new();
                let mut budget = ReassemblyBudget::new(64 << 20);
                r.start_at(1000);
                let mut delivered = 0usize;
                let mut out = |c: StreamChunk<'_>| {
                    if let StreamChunk::Data(d, _) = c {
                        delivered += d.len();
                    }
                };
                for i in 0..1000u32 {
                    let k = if swap { i ^ 1 } else { i };
                    let seq = 1000u32.wrapping_add(k * 1448);
                    r.segment(seq, &payload, ctx, 1 << 20, &mut budget, &mut out);
                }
                black_box(delivered)
            })
        });
    }
    g.finish();

    // HTTP parser through the StreamSink trait: one keep-alive request/response pair,
    // the response body split into MSS-sized chunks as the reassembler would hand it over.
    let request = b"GET /k.bin HTTP/1.1\r\nHost: 10.77.0.1\r\nUser-Agent: bench\r\n\r\n";
    let body = vec![b'k'; 14000];
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    let mut g = c.benchmark_group("http");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("1000_transactions_one_conn", |b| {
        b.iter(|| {
            let mut app = AppCollector::new(AppConfig::default());
            let mut events = 0usize;
            for i in 0..1000u64 {
                let ctx = SegmentCtx {
                    frame: i * 2,
                    ts: Timestamp::default(),
                    handshake_rtt_ns: None,
                    ports: Some((40000, 80)),
                };
                app.on_data(1, Direction::ToServer, request, ctx);
                for chunk in response.chunks(1448) {
                    app.on_data(1, Direction::ToClient, chunk, ctx);
                }
                events += app.drain_events().count();
            }
            app.on_close(1);
            black_box((events, app.take_conn_stats(1)))
        })
    });
    g.finish();
    hpack(c);
}

/// HPACK: RFC 7541 C.4's three Huffman-coded requests on one connection (the browser case:
/// every string Huffman-coded), layerscope's decoder against loona-hpack's `Decoder`, which it
/// replaced (loona-hpack builds its Huffman table again for every string).
fn hpack(c: &mut Criterion) {
    use layerscope::app::http2_hpack::HeaderDecoder;
    let hex = |s: &str| -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let blocks = [
        hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
        hex("8286 84be 5886 a8eb 1064 9cbf"),
        hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
    ];
    let mut g = c.benchmark_group("hpack");
    g.throughput(Throughput::Elements(3));
    g.bench_function("rfc7541_c4_layerscope", |b| {
        b.iter(|| {
            let mut d = HeaderDecoder::default();
            let n: usize = blocks
                .iter()
                .map(|bl| d.decode(bl).map_or(0, |l| l.fields.len()))
                .sum();
            black_box(n)
        })
    });
    g.bench_function("rfc7541_c4_loona_hpack", |b| {
        b.iter(|| {
            let mut d = loona_hpack::Decoder::new();
            let n: usize = blocks
                .iter()
                .map(|bl| d.decode(bl).map_or(0, |l| l.len()))
                .sum();
            black_box(n)
        })
    });
    g.finish();
}

/// The JSON writer alone: the `packet` records of the input's frames (each frame decoded
/// again, as the writer borrows the decoded packet: compare with `per_frame/decoder`) and
/// the `conn` records of its connections (`--view conns`: written in id order as they
/// end), from what the pipeline made of the input beforehand.
fn json_writer(c: &mut Criterion) {
    use layerscope::app::AppConnStats;
    use layerscope::flow::{ConnSummary, PacketFlow};
    use layerscope::pipeline::Sink;
    use layerscope::render::{JsonRecords, JsonSink};
    #[derive(Default)]
    struct Recorded {
        flows: Vec<PacketFlow>,
        conns: Vec<(ConnSummary, AppConnStats)>,
    }
    impl Sink for Recorded {
        fn wants_packets(&self) -> bool {
            true
        }
        fn packet(
            &mut self,
            _frame: &RawFrame<'_>,
            _packet: &layerscope::decode::DecodedPacket<'_>,
            flow: &PacketFlow,
        ) -> std::io::Result<()> {
            self.flows.push(flow.clone());
            Ok(())
        }
        fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> std::io::Result<()> {
            self.conns.push((conn.clone(), app.clone()));
            Ok(())
        }
    }
    let (bytes, frames) = input();
    let mut recorded = Recorded::default();
    let mut source = FileSource::from_reader(Box::new(Cursor::new(bytes))).unwrap();
    layerscope::pipeline::run(&mut source, Default::default(), &mut recorded).unwrap();
    assert_eq!(recorded.flows.len(), frames.len());
    let mut conns = recorded.conns;
    conns.sort_by_key(|(c, _)| c.id);

    let mut g = c.benchmark_group("json");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("decoder+packet_records", |b| {
        let mut decoder = Decoder::new();
        let mut sink = JsonSink::new(std::io::sink());
        b.iter(|| {
            for (f, flow) in frames.iter().zip(&recorded.flows) {
                let raw = f.raw();
                let p = decoder.decode(&raw);
                sink.packet(&raw, &p, flow).unwrap();
            }
        })
    });
    g.throughput(Throughput::Elements(conns.len() as u64));
    g.bench_function("conn_records", |b| {
        b.iter_batched(
            || {
                let mut sink = JsonSink::new(std::io::sink());
                sink.records = JsonRecords {
                    conns: true,
                    ..JsonRecords::NONE
                };
                sink
            },
            |mut sink| {
                for (conn, app) in &conns {
                    sink.conn_end(conn, app).unwrap();
                }
                black_box(sink)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, stages, json_writer);
criterion_main!(benches);
