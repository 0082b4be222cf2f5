using OrleansGateway.EdgeHost.Cluster;
using OrleansGateway.EdgeHost.Configuration;
using OrleansGateway.EdgeHost.Diagnostics;
using OrleansGateway.Grains;

namespace OrleansGateway.EdgeHost.Sessions;

/// <summary>What every session shares (one instance per edge), so a session carries one reference, not ten.</summary>
internal sealed record SessionServices(
    GrainRefs Grains,
    GrainCallPolicy Calls,
    IStreamHistory History,
    ChannelSubscriptions Channels,
    SessionRegistry Registry,
    ClientBudgets Budgets,
    LocalEdge Edge,
    EdgeMetrics Metrics,
    TimeProvider Time,
    TimeSpan TokenClockSkew,
    EdgeOptions Options,
    LimitsOptions Limits,
    ILogger<ClientSession> Logger,
    GatewayEventsOptions? Events = null);
