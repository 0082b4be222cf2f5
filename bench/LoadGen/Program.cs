// Load generator for OrleansGateway (and the raw Kestrel baseline), speaking ogw.v1.json. One scenario per run;
// each prints ONE line "RESULT {json}" (also appended to --out) and a table. bench/run drives it; see docs/benchmarks.md.
//   OrleansGateway.Bench.LoadGen <idle|direct|fanout|flood|scale|drain> --edges=ws://127.0.0.1:5101,... --edge-pids=… --silo-pids=… --secret=…
using OrleansGateway.Bench.LoadGen;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: LoadGen <idle|direct|fanout|flood|scale|scale-worker|drain> --key=value ...");
    return 2;
}

var settings = Settings.Parse(args.Skip(1));
Network.Configure(settings.Int("sources", 250), settings.Int("source-offset", 0));
ThreadPool.SetMinThreads(Math.Max(8, Environment.ProcessorCount * 4), Math.Max(8, Environment.ProcessorCount * 4));
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Int("max-seconds", 600)));
return args[0] switch
{
    "idle" => await IdleScenario.RunAsync(settings, deadline.Token),
    "direct" => await DirectScenario.RunAsync(settings, deadline.Token),
    "fanout" => await FanoutScenario.RunAsync(settings, deadline.Token),
    "flood" => await FloodScenario.RunAsync(settings, deadline.Token),
    "scale" => await ScaleScenario.RunAsync(settings, deadline.Token),
    "scale-worker" => await ScaleScenario.WorkerAsync(settings, deadline.Token),
    "drain" => await DrainScenario.RunAsync(settings, deadline.Token),
    "presence" => await PresenceScenario.RunAsync(settings, deadline.Token),
    _ => throw new ArgumentException($"unknown scenario '{args[0]}'"),
};
