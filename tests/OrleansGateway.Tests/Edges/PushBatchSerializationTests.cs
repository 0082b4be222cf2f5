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
        var message = new StreamMessage(1, "a", [1, 2], 0);

        Assert.NotNull(codecs.TryGetCodec(MailboxBatch.Of("c", message).Messages.GetType()));
        Assert.NotNull(codecs.TryGetCodec(ChannelBatch.Of("ch", message).Messages.GetType()));
    }

    [Fact]
    public void Of_OneMessage_RoundTripsThroughTheOrleansSerializer()
    {
        var serializer = Services.GetRequiredService<Serializer>();
        var batch = MailboxBatch.Of("c", new StreamMessage(7, "a", [1, 2, 3], 42));

        var copy = serializer.Deserialize<MailboxBatch>(serializer.SerializeToArray(batch));

        Assert.NotNull(copy);
        var message = Assert.Single(copy.Messages);
        Assert.Equal("c", copy.ClientId);
        Assert.Equal((7L, "a", 42L), (message.Seq, message.From, message.AcceptedAtUnixMs));
        Assert.Equal(new byte[] { 1, 2, 3 }, message.Data);
    }

    [Fact]
    public void EdgePush_MessagesAndPublications_RoundTripThroughTheOrleansSerializer()
    {
        var serializer = Services.GetRequiredService<Serializer>();
        var push = new EdgePush(
            [MailboxBatch.Of("c1", new StreamMessage(7, "a", [1, 2, 3], 42)), MailboxBatch.Of("c2", new StreamMessage(1, "b", [4], 43))],
            [ChannelBatch.Of("news", new StreamMessage(9, "s", [5], 44))]);

        var copy = serializer.Deserialize<EdgePush>(serializer.SerializeToArray(push));

        Assert.NotNull(copy);
        Assert.Equal(["c1", "c2"], copy.Mailboxes.Select(b => b.ClientId));
        Assert.Equal([7L, 1L], copy.Mailboxes.Select(b => Assert.Single(b.Messages).Seq));
        Assert.Equal(new byte[] { 1, 2, 3 }, copy.Mailboxes[0].Messages[0].Data);
        var publication = Assert.Single(Assert.Single(copy.Channels).Messages);
        Assert.Equal(("news", 9L, "s", 44L), (copy.Channels[0].Channel, publication.Seq, publication.From, publication.AcceptedAtUnixMs));
    }

    [Fact]
    public void EdgePush_WithSendAcks_RoundTripThroughTheOrleansSerializer()
    {
        var serializer = Services.GetRequiredService<Serializer>();
        var push = new EdgePush([], []) { Acks = [new SendAck(1, SendOutcome.Accepted, 7), new SendAck(2, SendOutcome.KeyReused, 0), new SendAck(3, SendOutcome.Duplicate, 5)] };

        var copy = serializer.Deserialize<EdgePush>(serializer.SerializeToArray(push));

        Assert.NotNull(copy);
        Assert.Equal(push.Acks, copy.Acks);
    }

    [Fact]
    public void EdgePush_WithoutAcks_AcksArriveNull()
    {
        var serializer = Services.GetRequiredService<Serializer>();

        var copy = serializer.Deserialize<EdgePush>(serializer.SerializeToArray(new EdgePush([], [])));

        Assert.NotNull(copy);
        Assert.Null(copy.Acks);
    }

    [Fact]
    public void EdgePush_OneKindOnly_OtherKindArrivesEmptyNotNull()
    {
        var serializer = Services.GetRequiredService<Serializer>();
        var push = new EdgePush([], [ChannelBatch.Of("news", new StreamMessage(1, "s", [], 0))]);

        var copy = serializer.Deserialize<EdgePush>(serializer.SerializeToArray(push));

        Assert.NotNull(copy);
        Assert.Empty(copy.Mailboxes);
        Assert.Single(copy.Channels);
    }
}
