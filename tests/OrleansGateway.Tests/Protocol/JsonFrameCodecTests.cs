using System.Text;
using System.Text.Json;
using OrleansGateway.EdgeHost.Protocol;

namespace OrleansGateway.Tests.Protocol;

public sealed class JsonFrameCodecTests
{
    private static ClientFrame Parse(string json)
    {
        Assert.True(JsonFrameCodec.TryParse(Encoding.UTF8.GetBytes(json), out var frame, out var error), error.Message);
        return frame!;
    }

    private static FrameError Refuse(string json)
    {
        Assert.False(JsonFrameCodec.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        return error;
    }

    [Fact]
    public void TryParse_Send_ReadsFieldsAndKeepsDataRaw()
    {
        var frame = Parse("""{"t":"send","id":"c1","to":"bob","data":{ "a" : [1, 2.50, "x"] },"extra":{"ignored":true}}""");
        Assert.Equal(ClientFrameType.Send, frame.Type);
        Assert.Equal("c1", frame.Id);
        Assert.Equal("bob", frame.To);
        Assert.Equal("""{ "a" : [1, 2.50, "x"] }""", Encoding.UTF8.GetString(frame.Data!));
    }

    [Fact]
    public void TryParse_SendWithoutData_DataIsJsonNull()
    {
        Assert.Equal("null", Encoding.UTF8.GetString(Parse("""{"t":"send","to":"bob"}""").Data!));
    }

    [Fact]
    public void TryParse_SubWithSince_ReadsChannelAndOffset()
    {
        var frame = Parse("""{"t":"sub","id":"c2","ch":"room:1","since":41}""");
        Assert.Equal(ClientFrameType.Sub, frame.Type);
        Assert.Equal("room:1", frame.Channel);
        Assert.Equal(41, frame.Since);
    }

    [Fact]
    public void TryParse_EscapedPropertyName_IsRecognized()
    {
        Assert.Equal(ClientFrameType.Ping, Parse("""{"\u0074":"ping"}""").Type);
    }

    [Fact]
    public void TryParse_EscapedTypeValue_IsRecognized()
    {
        Assert.Equal(ClientFrameType.Send, Parse("""{"t":"sen\u0064","to":"bob"}""").Type);
    }

    [Theory]
    [InlineData("{", "malformed JSON")]
    [InlineData("[]", "a frame must be a JSON object")]
    [InlineData("{\"t\":\"nope\"}", "unknown frame type")]
    [InlineData("{\"id\":\"x\"}", "missing t")]
    [InlineData("{\"t\":\"send\"}", "missing to")]
    [InlineData("{\"t\":\"pub\",\"data\":1}", "missing ch")]
    [InlineData("{\"t\":\"up\",\"data\":1}", "missing topic")]
    [InlineData("{\"t\":\"sub\",\"ch\":\"a\",\"since\":-1}", "since must be a non-negative integer")]
    [InlineData("{\"t\":\"sub\",\"ch\":\"a\",\"since\":1.5}", "since must be a non-negative integer")]
    [InlineData("{\"t\":1}", "t must be a string")]
    [InlineData("{\"t\":\"ping\"}{}", "malformed JSON")]
    [InlineData("{\"t\":\"send\",\"to\":\"a\",\"to\":\"b\",\"data\":1}", "duplicate field to")]
    [InlineData("{\"t\":\"send\",\"t\":\"pub\",\"to\":\"a\"}", "duplicate field t")]
    [InlineData("{\"t\":\"send\",\"to\":\"a\",\"data\":1,\"data\":2}", "duplicate field data")]
    [InlineData("{\"t\":\"sub\",\"ch\":\"a\",\"since\":1e400}", "since must be a non-negative integer")]
    [InlineData("{\"t\":\"sub\",\"ch\":\"a\",\"since\":99999999999999999999999}", "since must be a non-negative integer")]
    public void TryParse_BadFrame_BadRequestWithReason(string json, string reason)
    {
        var error = Refuse(json);
        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Equal(reason, error.Message);
    }

    [Fact]
    public void TryParse_IdTooLong_Refused()
    {
        var error = Refuse($$"""{"t":"ping","id":"{{new string('i', 65)}}"}""");
        Assert.Null(error.Id);
        Assert.Contains("id", error.Message);
    }

    [Fact]
    public void TryParse_KnownIdThenBadField_ErrorEchoesId()
    {
        Assert.Equal("c9", Refuse("""{"t":"send","id":"c9","to":5}""").Id);
    }

    [Fact]
    public void TryParse_DeepNesting_RefusedNotThrown()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);
        Assert.Equal(ErrorCodes.BadRequest, Refuse($$"""{"t":"send","to":"b","data":{{deep}}}""").Code);
    }

    [Fact]
    public void TryParse_InvalidUtf8_Refused()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"t":"ping","id":"xx"}""");
        bytes[^3] = 0xFF;
        Assert.False(JsonFrameCodec.TryParse(bytes, out _, out var error));
        Assert.Equal("frame is not valid UTF-8", error.Message);
    }

    [Fact]
    public void TryParse_RandomMutations_NeverThrow()
    {
        var seeds = new[]
        {
            """{"t":"send","id":"c1","to":"bob","data":{"x":[1,2,{"y":null}]}}""",
            """{"t":"sub","id":"c2","ch":"room:1","since":41}""",
            """{"t":"up","id":"c5","topic":"orders","data":"\u00e9"}""",
        };
        var random = new Random(1234);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(seeds[i % seeds.Length]);
            var mutations = random.Next(1, 4);
            for (var m = 0; m < mutations; m++)
            {
                switch (random.Next(3))
                {
                    case 0: bytes[random.Next(bytes.Length)] = (byte)random.Next(256); break;
                    case 1: bytes = bytes[..random.Next(bytes.Length)]; break;
                    default: bytes = [.. bytes, .. bytes[..random.Next(bytes.Length)]]; break;
                }

                if (bytes.Length == 0)
                {
                    break;
                }
            }

            if (JsonFrameCodec.TryParse(bytes, out var frame, out var error))
            {
                Assert.NotNull(frame);
            }
            else
            {
                Assert.Equal(ErrorCodes.BadRequest, error.Code);
            }
        }
    }

    [Fact]
    public void Message_EncodesDataUntouched()
    {
        var frame = JsonFrameCodec.Message(18, "bob", Encoding.UTF8.GetBytes("""{"k":[1,"two"]}"""));
        Assert.Equal("""{"t":"msg","seq":18,"from":"bob","data":{"k":[1,"two"]}}""", Encoding.UTF8.GetString(frame));
    }

    [Fact]
    public void ServerFrames_MatchProtocolShapes()
    {
        Assert.Equal("""{"t":"welcome","client":"alice","seq":17,"recovered":true,"hb":25}""", Encoding.UTF8.GetString(JsonFrameCodec.Welcome("alice", 17, true, 25)));
        Assert.Equal("""{"t":"ok","id":"c1"}""", Encoding.UTF8.GetString(JsonFrameCodec.Ok("c1")));
        Assert.Equal("""{"t":"pong","id":"c6"}""", Encoding.UTF8.GetString(JsonFrameCodec.Pong("c6")));
        Assert.Equal("""{"t":"bye","code":"draining","reconnect_ms":1200}""", Encoding.UTF8.GetString(JsonFrameCodec.Bye("draining", 1200)));
        var err = JsonDocument.Parse(JsonFrameCodec.Error("c1", "forbidden", "no \"quotes\" escape")).RootElement;
        Assert.Equal("no \"quotes\" escape", err.GetProperty("msg").GetString());
    }

    [Theory]
    [InlineData("send", "\"to\":\"bob\"")]
    [InlineData("pub", "\"ch\":\"room\"")]
    [InlineData("up", "\"topic\":\"orders\"")]
    public void TryParse_KeyedFrame_ReadsTheKey(string type, string target)
    {
        Assert.Equal("k-1", Parse($$"""{"t":"{{type}}","id":"c1",{{target}},"key":"k-1","data":1}""").Key);
        Assert.Null(Parse($$"""{"t":"{{type}}","id":"c1",{{target}},"data":1}""").Key);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("12")]
    [InlineData("null")]
    [InlineData("[\"k\"]")]
    [InlineData("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"")] // 65 characters
    public void TryParse_InvalidKey_BadRequestWithTheId(string key)
    {
        var error = Refuse($$"""{"t":"send","id":"c1","to":"bob","key":{{key}},"data":1}""");
        Assert.Equal(ErrorCodes.BadRequest, error.Code);
        Assert.Equal("c1", error.Id);
        Assert.Contains("key", error.Message);
    }

    [Fact]
    public void TryParse_KeyOf64Characters_Accepted() =>
        Assert.Equal(64, Parse($$"""{"t":"send","to":"bob","key":"{{new string('k', 64)}}"}""").Key!.Length);

    [Fact]
    public void TryParse_KeyTwice_BadRequest() =>
        Assert.Contains("duplicate field key", Refuse("""{"t":"send","to":"bob","key":"a","key":"b"}""").Message);

    [Fact]
    public void TryParse_KeyOnAFrameWithoutOne_IgnoredAsAnUnknownField()
    {
        var frame = Parse("""{"t":"ping","id":"c1","key":12}""");
        Assert.Equal(ClientFrameType.Ping, frame.Type);
        Assert.Null(frame.Key);
    }

    [Fact]
    public void Accepted_KeyedSendAndPub_SeqOrOffAndDupOnlyOnARepeat()
    {
        Assert.Equal("""{"t":"ok","id":"c1","seq":18}""", Encoding.UTF8.GetString(JsonFrameCodec.Accepted("c1", channel: false, 18, duplicate: false)));
        Assert.Equal("""{"t":"ok","id":"c1","off":42,"dup":true}""", Encoding.UTF8.GetString(JsonFrameCodec.Accepted("c1", channel: true, 42, duplicate: true)));
        Assert.Equal("""{"t":"ok","id":"c5","dup":true}""", Encoding.UTF8.GetString(JsonFrameCodec.Ok("c5", duplicate: true)));
        Assert.Equal("""{"t":"ok","id":"c5"}""", Encoding.UTF8.GetString(JsonFrameCodec.Ok("c5", duplicate: false)));
    }
}
