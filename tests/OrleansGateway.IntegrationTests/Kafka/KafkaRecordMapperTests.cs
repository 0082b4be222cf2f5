using System.Text;
using Confluent.Kafka;
using Orleans.Runtime;
using OrleansGateway.Streams.Kafka;

using OrleansGateway.Grains;

namespace OrleansGateway.IntegrationTests.Kafka;

/// <summary>The record → stream contract (docs/kafka.md), without Kafka or Orleans.</summary>
public sealed class KafkaRecordMapperTests
{
    [Fact]
    public void Map_ClientTargetAndFromHeaders_MapsToClientStreamWithFrom()
    {
        var mapped = Map("alice", """{"a":1}""", ("ogw-target", "client"), ("ogw-from", "billing"));

        Assert.True(mapped.IsValid);
        Assert.Equal(StreamId.Create(KafkaRecordRouting.ClientNamespace, "alice"), mapped.StreamId);
        Assert.Equal(new InboundMessage("billing", mapped.Record!.Data, "orders/4", 42), mapped.Record);
        Assert.Equal("""{"a":1}""", Encoding.UTF8.GetString(mapped.Record.Data));
    }

    [Fact]
    public void Map_NoHeaders_DefaultsToClientStreamFromTopicName()
    {
        var mapped = Map("bob", "true");

        Assert.Equal(StreamId.Create("ogw.client", "bob"), mapped.StreamId);
        Assert.Equal("orders", mapped.Record!.From);
    }

    [Fact]
    public void Map_ChannelTarget_MapsToChannelStream()
    {
        var mapped = Map("news.eu", """["x"]""", ("ogw-target", "channel"));

        Assert.Equal(StreamId.Create("ogw.channel", "news.eu"), mapped.StreamId);
    }

    [Fact]
    public void Map_EmptyFromHeader_FallsBackToTopicName()
    {
        Assert.Equal("orders", Map("bob", "1", ("ogw-from", "")).Record!.From);
    }

    [Fact]
    public void Map_RepeatedHeader_LastOneWins()
    {
        var mapped = Map("bob", "1", ("ogw-target", "client"), ("ogw-target", "channel"));

        Assert.Equal(StreamId.Create("ogw.channel", "bob"), mapped.StreamId);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData(" {\"nested\":{\"a\":[1,2,{\"b\":null}]}} ")]
    [InlineData("[]")]
    [InlineData("\"text\"")]
    [InlineData("-1.5e3")]
    [InlineData("null")]
    public void Map_ValidJsonValue_IsValidAndPassedThroughUntouched(string json)
    {
        var mapped = Map("k", json);

        Assert.True(mapped.IsValid, mapped.Error);
        Assert.Equal(json, Encoding.UTF8.GetString(mapped.Record!.Data));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not json")]
    [InlineData("{")]
    [InlineData("{\"a\":1} {\"b\":2}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("// comment\n{}")]
    [InlineData("{'a':1}")]
    public void Map_InvalidJsonValue_IsInvalid(string value)
    {
        var mapped = Map("k", value);

        Assert.False(mapped.IsValid);
        Assert.Contains("JSON", mapped.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_UnknownTarget_IsInvalid()
    {
        var mapped = Map("k", "{}", ("ogw-target", "Client"));

        Assert.False(mapped.IsValid);
        Assert.Contains("ogw-target", mapped.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_MissingOrEmptyKey_IsInvalid()
    {
        Assert.False(KafkaRecordMapper.Map("orders", 0, 1, null, null, "{}"u8.ToArray()).IsValid);
        Assert.False(KafkaRecordMapper.Map("orders", 0, 1, [], null, "{}"u8.ToArray()).IsValid);
    }

    [Fact]
    public void Map_NonUtf8KeyOrHeader_IsInvalid()
    {
        byte[] notUtf8 = [0xC3, 0x28];
        Assert.Contains("key", KafkaRecordMapper.Map("orders", 0, 1, notUtf8, null, "{}"u8.ToArray()).Error, StringComparison.Ordinal);

        var headers = new Headers { { "ogw-from", notUtf8 } };
        Assert.Contains("ogw-from", KafkaRecordMapper.Map("orders", 0, 1, "k"u8.ToArray(), headers, "{}"u8.ToArray()).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_Tombstone_IsInvalid()
    {
        var mapped = KafkaRecordMapper.Map("orders", 0, 1, "k"u8.ToArray(), null, null);

        Assert.False(mapped.IsValid);
        Assert.Contains("tombstone", mapped.Error, StringComparison.Ordinal);
    }

    private static KafkaMappedRecord Map(string key, string value, params (string Name, string Value)[] headers)
    {
        var kafkaHeaders = new Headers();
        foreach (var (name, headerValue) in headers)
        {
            kafkaHeaders.Add(name, Encoding.UTF8.GetBytes(headerValue));
        }

        return KafkaRecordMapper.Map("orders", 4, 42, Encoding.UTF8.GetBytes(key), kafkaHeaders, Encoding.UTF8.GetBytes(value));
    }
}
