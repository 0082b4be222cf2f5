using System.Net;
using Orleans.Runtime;
using Orleans.Runtime.Placement;
using OrleansGateway.Grains.Placement;

namespace OrleansGateway.Tests.Placement;

public sealed class FirstCallerPlacementDirectorTests
{
    private static readonly SiloAddress Local = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress Other = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);
    private static readonly PlacementTarget Target = new(GrainId.Create("client", "bob"), new Dictionary<string, object>(), default, 0);

    [Fact]
    public async Task OnAddActivation_LocalSiloActive_PlacesOnTheLocalSilo()
    {
        var director = new FirstCallerPlacementDirector();

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Local, await director.OnAddActivation(FirstCallerPlacement.Singleton, Target, new Context(SiloStatus.Active, Local, Other)));
        }
    }

    [Theory]
    [InlineData(SiloStatus.ShuttingDown)]
    [InlineData(SiloStatus.Stopping)]
    public async Task OnAddActivation_LocalSiloLeaving_NeverPlacesBackOnIt(SiloStatus status)
    {
        // A stopping silo migrating its grains asks its own director: placing them back on it would migrate nothing.
        var director = new FirstCallerPlacementDirector();

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(Other, await director.OnAddActivation(FirstCallerPlacement.Singleton, Target, new Context(status, Local, Other)));
        }
    }

    [Fact]
    public async Task OnAddActivation_LocalSiloNotCompatible_PlacesOnACompatibleOne()
    {
        var director = new FirstCallerPlacementDirector();

        Assert.Equal(Other, await director.OnAddActivation(FirstCallerPlacement.Singleton, Target, new Context(SiloStatus.Active, Local, Other) { LocalCompatible = false }));
    }

    [Fact]
    public async Task OnAddActivation_PlacementHintGiven_FollowsTheHint()
    {
        var director = new FirstCallerPlacementDirector();
        var hinted = new PlacementTarget(Target.GrainIdentity, new Dictionary<string, object> { [IPlacementDirector.PlacementHintKey] = Other }, default, 0);

        Assert.Equal(Other, await director.OnAddActivation(FirstCallerPlacement.Singleton, hinted, new Context(SiloStatus.Active, Local, Other)));
    }

    private sealed class Context(SiloStatus status, SiloAddress local, SiloAddress other) : IPlacementContext
    {
        public bool LocalCompatible { get; init; } = true;

        public SiloAddress LocalSilo => local;

        public SiloStatus LocalSiloStatus => status;

        public SiloAddress[] GetCompatibleSilos(PlacementTarget target) => LocalCompatible ? [local, other] : [other];

        public IReadOnlyDictionary<ushort, SiloAddress[]> GetCompatibleSilosWithVersions(PlacementTarget target) =>
            new Dictionary<ushort, SiloAddress[]> { [0] = GetCompatibleSilos(target) };
    }
}
