using System.Buffers;
using System.Text;
using Postern.Protocols.Imap;
using Postern.Server.Imap;

namespace Postern.UnitTests.Imap;

/// <summary>RFC 5256 SORT and THREAD: the request grammar, the base subject and both threading algorithms.</summary>
public sealed class ImapSortAndThreadTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Re: hello", "hello", true)]
    [InlineData("RE [list]: Re: hello (fwd)", "hello", true)]
    [InlineData("Re[2]: Fwd: hello", "hello", true)]
    [InlineData("Fw: hello", "hello", true)]
    [InlineData("[Fwd: Re: hello]", "hello", true)]
    [InlineData("[list] hello", "hello", false)]
    [InlineData("[list] [other]  hello world  ", "hello world", false)]
    [InlineData("[list]", "[list]", false)]
    [InlineData("Fwd:   spaced\t subject  ", "spaced subject", true)]
    [InlineData("Rewards program", "Rewards program", false)]
    [InlineData("re:", "", true)]
    [InlineData("", "", false)]
    [InlineData(null, "", false)]
    public void Base_subject_drops_reply_markers_list_tags_and_forward_wrappers(string? subject, string expected, bool replyOrForward)
    {
        Assert.Equal(expected, ImapBaseSubject.Extract(subject, out var isReplyOrForward));
        Assert.Equal(replyOrForward, isReplyOrForward);
    }

    [Fact]
    public void Comparison_key_folds_only_ascii_letters()
    {
        Assert.Equal("HELLO WORLD", ImapBaseSubject.ComparisonKey("Hello World"));
        Assert.Equal("GRüßE", ImapBaseSubject.ComparisonKey("grüße"));
    }

    [Fact]
    public void Sort_request_parses_criteria_charset_and_keys()
    {
        var request = ParseSort("(REVERSE DATE SUBJECT DISPLAYFROM) UTF-8 UNSEEN");
        Assert.Equal(
            [new ImapSortCriterion(ImapSortKey.Date, true), new ImapSortCriterion(ImapSortKey.Subject, false), new ImapSortCriterion(ImapSortKey.DisplayFrom, false)],
            request.Criteria);
        Assert.Equal("UTF-8", request.Charset);
        Assert.Equal(new ImapSearchFlagKey(ImapSearchFlag.Seen, false), request.Key);
        Assert.Null(request.Return);
    }

    [Fact]
    public void Sort_request_takes_esort_return_options()
    {
        var request = ParseSort("RETURN (MIN COUNT) (ARRIVAL) US-ASCII 1:5");
        Assert.Equal(ImapSearchReturnOptions.Min | ImapSearchReturnOptions.Count, request.Return);
        Assert.IsType<ImapSearchSequence>(request.Key);
    }

    [Theory]
    [InlineData("() UTF-8 ALL")]
    [InlineData("(REVERSE) UTF-8 ALL")]
    [InlineData("(REVERSE REVERSE DATE) UTF-8 ALL")]
    [InlineData("(BOGUS) UTF-8 ALL")]
    [InlineData("DATE UTF-8 ALL")]
    [InlineData("(DATE)")]
    [InlineData("(DATE) UTF-8")]
    [InlineData("RETURN (PARTIAL 1:5) (DATE) UTF-8 ALL")]
    public void Bad_sort_requests_are_refused(string arguments)
    {
        var command = ImapFeeding.Single("s SORT " + arguments + "\r\n", ImapFeeding.Whole);
        Assert.False(ImapSortRequest.TryParse(command.GetReader(), out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Thread_request_parses_algorithm_and_criteria()
    {
        var command = ImapFeeding.Single("t THREAD references US-ASCII SEEN\r\n", ImapFeeding.Whole);
        Assert.True(ImapThreadRequest.TryParse(command.GetReader(), out var request, out var error), error);
        Assert.Equal(ImapThreadAlgorithm.References, request.Algorithm);
        Assert.Equal(new ImapSearchFlagKey(ImapSearchFlag.Seen, true), request.Key);

        var bad = ImapFeeding.Single("t THREAD BOGUS UTF-8 ALL\r\n", ImapFeeding.Whole);
        Assert.False(ImapThreadRequest.TryParse(bad.GetReader(), out _, out _));
    }

    [Fact]
    public void Esort_all_keeps_the_sort_order()
    {
        Assert.Equal("5,3:4,2,1", ImapSequenceSet.FormatInOrder([5, 3, 4, 2, 1]));
        Assert.Equal("1:3", ImapSequenceSet.FormatInOrder([1, 2, 3]));
        Assert.Equal(string.Empty, ImapSequenceSet.FormatInOrder([]));
    }

    [Fact]
    public void Ordered_subject_makes_the_first_message_of_a_subject_the_parent_of_the_rest()
    {
        var messages = new[]
        {
            Message(1, subject: "b", hours: 0),
            Message(2, subject: "a", hours: 1),
            Message(3, subject: "b", hours: 2),
            Message(4, subject: "a", hours: 3),
            Message(5, subject: "a", hours: 4),
            Message(6, subject: "c", hours: 5),
        };

        // RFC 5256 §4: one child continues the list, several nest.
        Assert.Equal("* THREAD (1 3)(2 (4)(5))(6)", Write(ImapThreading.OrderedSubject(messages)));
    }

    [Fact]
    public void References_builds_chains_and_branches()
    {
        var messages = new[]
        {
            Message(1, id: "a"),
            Message(2, id: "b", references: ["a"], hours: 1),
            Message(3, id: "c", references: ["a", "b"], hours: 2),
            Message(4, id: "d", references: ["a"], hours: 3),
            Message(5, id: "e", subject: "other", hours: 4),
        };

        Assert.Equal("* THREAD (1 (2 3)(4))(5)", Write(ImapThreading.References(messages)));
    }

    [Fact]
    public void References_keeps_siblings_of_a_missing_parent_under_a_dummy()
    {
        var messages = new[]
        {
            Message(1, id: "a", references: ["missing"], subject: "one"),
            Message(2, id: "b", references: ["missing"], subject: "two", hours: 1),
            Message(3, id: "c", references: ["gone"], subject: "three", hours: 2),
        };

        // Two children of a message that did not match stay together; a lone child is promoted to the top.
        Assert.Equal("* THREAD ((1)(2))(3)", Write(ImapThreading.References(messages)));
    }

    [Fact]
    public void References_gathers_replies_by_subject_when_headers_are_missing()
    {
        var messages = new[]
        {
            Message(1, id: "a", subject: "hello"),
            Message(2, id: "b", subject: "Re: hello", replyOrForward: true, hours: 1),
            Message(3, id: "c", subject: "hello", hours: 2),
        };

        // A reply joins the original; two originals of one subject become siblings under a dummy.
        Assert.Equal("* THREAD ((1 2)(3))", Write(ImapThreading.References(messages)));
    }

    [Fact]
    public void References_survives_loops_and_duplicate_ids()
    {
        var messages = new[]
        {
            Message(1, id: "a", references: ["b"], subject: "x"),
            Message(2, id: "b", references: ["a"], subject: "y", hours: 1),
            Message(3, id: "a", subject: "z", hours: 2),
            Message(4, id: "self", references: ["self"], subject: "w", hours: 3),
        };

        var text = Write(ImapThreading.References(messages));
        foreach (var number in new[] { "1", "2", "3", "4" })
        {
            Assert.Single(text.Split(' ', '(', ')'), t => t == number);
        }
    }

    [Fact]
    public void A_reference_chain_as_long_as_a_large_mailbox_does_not_exhaust_the_stack()
    {
        const int count = 100_000;
        var messages = new List<ImapThreadMessage>(count);
        for (var i = 1; i <= count; i++)
        {
            messages.Add(Message((uint)i, id: "m" + i, references: i == 1 ? [] : ["m" + (i - 1)], seconds: i));
        }

        var text = Write(ImapThreading.References(messages));
        Assert.StartsWith("* THREAD (1 2 3 ", text, StringComparison.Ordinal);
        Assert.EndsWith(" 100000)", text, StringComparison.Ordinal);
    }

    private static ImapSortRequest ParseSort(string arguments)
    {
        var command = ImapFeeding.Single("s SORT " + arguments + "\r\n", ImapFeeding.Whole);
        Assert.True(ImapSortRequest.TryParse(command.GetReader(), out var request, out var error), error);
        return request;
    }

    private static ImapThreadMessage Message(uint number, string? id = null, string[]? references = null, string subject = "s", bool replyOrForward = false,
        int hours = 0, int seconds = 0) =>
        new(number, (int)number, id, references ?? [], ImapBaseSubject.ComparisonKey(ImapBaseSubject.Extract(subject, out _)), replyOrForward,
            Day.AddHours(hours).AddSeconds(seconds));

    private static string Write(IReadOnlyList<ImapThreadNode> threads)
    {
        var buffer = new ArrayBufferWriter<byte>();
        ImapThreading.Write(new ImapResponseWriter(buffer), threads);
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.EndsWith("\r\n", text, StringComparison.Ordinal);
        return text[..^2];
    }
}
