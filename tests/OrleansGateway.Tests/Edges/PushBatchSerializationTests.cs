using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using OrleansGateway.Grains;

namespace OrleansGateway.Tests.Edges;

public sealed class PushBatchSerializationTests
{
    private static readonly IServiceProvider Services = new ServiceCollection()
        .AddSerializer(serializer => serializer.AddAssembly(typeof(MailboxBatch).Assembly))
        .BuildServiceProvider();

    [Fact]
    public void Of_OneMessage_HeldInATypeOrleansHasACodecFor()
    {
        // Without a codec for the runtime type, Orleans searches its codecs by reflection on every push.
        var codecs = Services.GetRequiredService<ICodecProvider>();
        var message = new MailboxMessage(1, "a", [1, 2], 0);

        Assert.NotNull(codecs.TryGetCodec(MailboxBatch.Of("c", message).Messages.GetType()));
        Assert.NotNull(codecs.TryGetCodec(ChannelBatch.Of("ch", message).Messages.GetType()));
    }

    [Fact]
    public void Of_OneMessage_RoundTripsThroughTheOrleansSerializer()
    {
        var serializer = Services.GetRequiredService<Serializer>();
        var batch = MailboxBatch.Of("c", new MailboxMessage(7, "a", [1, 2, 3], 42));

        var copy = serializer.Deserialize<MailboxBatch>(serializer.SerializeToArray(batch));

        Assert.NotNull(copy);
        var message = Assert.Single(copy.Messages);
        Assert.Equal("c", copy.ClientId);
        Assert.Equal((7L, "a", 42L), (message.Seq, message.From, message.AcceptedAtUnixMs));
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Data);
    }
}
