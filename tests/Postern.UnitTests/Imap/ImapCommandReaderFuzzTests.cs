using System.Buffers;
using Postern.Protocols.Imap;

namespace Postern.UnitTests.Imap;

public sealed class ImapCommandReaderFuzzTests
{
    private static readonly byte[] Alphabet = "a1 ({}[]<>)\"\\+~*%:.,$NILUIDFETCHBODY\r\n0123456789"u8.ToArray();

    /// <summary>Random input never throws, never loops, and everything given is always consumed or returned.</summary>
    [Fact]
    public void Random_input_is_always_answered()
    {
        var random = new Random(9051);
        var limits = new ImapLimits { MaxLineLength = 200, MaxLiteralSize = 300, MaxAppendLiteralSize = 300, MaxCommandSize = 2000, MaxNestingDepth = 6, MaxDiscardedLiteralSize = 5000 };
        for (var round = 0; round < 300; round++)
        {
            var reader = new ImapCommandReader(limits);
            var data = new byte[random.Next(1, 600)];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = random.Next(10) == 0 ? (byte)random.Next(256) : Alphabet[random.Next(Alphabet.Length)];
            }

            var input = new ReadOnlySequence<byte>(data);
            var steps = 0;
            while (true)
            {
                var before = input.Length;
                var result = reader.TryRead(ref input);
                Assert.True(++steps < 10_000, "reader did not make progress");
                if (result.Status == ImapReadStatus.NeedMoreData)
                {
                    Assert.Equal(0, input.Length);
                    break;
                }

                if (result.Status == ImapReadStatus.Command)
                {
                    Assert.False(string.IsNullOrEmpty(result.Command!.Tag));
                    Assert.False(string.IsNullOrEmpty(result.Command.Name));
                }

                Assert.True(input.Length < before || result.Status is ImapReadStatus.NeedContinuation or ImapReadStatus.LiteralTooLarge or ImapReadStatus.CommandTooLong or ImapReadStatus.LineTooLong);
            }
        }
    }
}
