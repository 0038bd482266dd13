using Postern.Protocols.Imap;

namespace Postern.Server.Imap;

/// <summary>What threading needs of one message that matched the search.</summary>
/// <param name="Number">What the reply names: the sequence number, or the UID for UID THREAD.</param>
/// <param name="Sequence">The position in the mailbox, which breaks ties between equal dates (RFC 5256 §3).</param>
/// <param name="MessageId">The Message-ID, or null when it is missing or invalid.</param>
/// <param name="References">The References ids, or else the first In-Reply-To id.</param>
/// <param name="SubjectKey">The base subject's comparison key (<see cref="ImapBaseSubject.ComparisonKey"/>).</param>
/// <param name="SentDate">The Date header, or the internal date when it has none (RFC 5256 §2.2).</param>
internal sealed record ImapThreadMessage(uint Number, int Sequence, string? MessageId, IReadOnlyList<string> References, string SubjectKey, bool IsReplyOrForward, DateTimeOffset SentDate);

/// <summary>A node of a thread tree: a message, or a dummy (no message) that holds siblings together.</summary>
internal sealed class ImapThreadNode(ImapThreadMessage? message)
{
    public ImapThreadMessage? Message { get; set; } = message;

    public ImapThreadNode? Parent { get; set; }

    public List<ImapThreadNode> Children { get; } = [];

    public bool IsDummy => Message is null;

    public void Adopt(ImapThreadNode child)
    {
        child.Parent = this;
        Children.Add(child);
    }

    public void Detach()
    {
        Parent?.Children.Remove(this);
        Parent = null;
    }

    /// <summary>True when <paramref name="node"/> is this node or below it: linking it above this node would make a loop.</summary>
    public bool Contains(ImapThreadNode node)
    {
        // The usual case, a node just created: nothing below it. Skipping the walk up keeps a long chain linear.
        if (Children.Count == 0)
        {
            return ReferenceEquals(node, this);
        }

        for (var current = node; current is not null; current = current.Parent)
        {
            if (ReferenceEquals(current, this))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The THREAD algorithms of RFC 5256 §3 and the thread-list reply of §4.</summary>
internal static class ImapThreading
{
    public static List<ImapThreadNode> Thread(ImapThreadAlgorithm algorithm, IReadOnlyList<ImapThreadMessage> messages) => algorithm switch
    {
        ImapThreadAlgorithm.OrderedSubject => OrderedSubject(messages),
        _ => References(messages),
    };

    /// <summary>
    /// ORDEREDSUBJECT: messages sorted by base subject and sent date; each subject is one thread whose first message is
    /// the parent of all the others; threads ordered by the sent date of their first message.
    /// </summary>
    public static List<ImapThreadNode> OrderedSubject(IReadOnlyList<ImapThreadMessage> messages)
    {
        var sorted = messages.OrderBy(m => m.SubjectKey, StringComparer.Ordinal).ThenBy(m => m.SentDate).ThenBy(m => m.Sequence).ToList();
        var threads = new List<ImapThreadNode>();
        ImapThreadNode? current = null;
        foreach (var message in sorted)
        {
            if (current is not null && current.Message!.SubjectKey == message.SubjectKey)
            {
                current.Adopt(new ImapThreadNode(message));
                continue;
            }

            current = new ImapThreadNode(message);
            threads.Add(current);
        }

        return [.. threads.OrderBy(t => t.Message!.SentDate).ThenBy(t => t.Message!.Sequence)];
    }

    /// <summary>REFERENCES (RFC 5256 §3, after Jamie Zawinski's algorithm), steps 1 to 6.</summary>
    public static List<ImapThreadNode> References(IReadOnlyList<ImapThreadMessage> messages)
    {
        var byId = new Dictionary<string, ImapThreadNode>(StringComparer.Ordinal);
        var all = new List<ImapThreadNode>();

        ImapThreadNode Container(string id)
        {
            if (!byId.TryGetValue(id, out var node))
            {
                node = new ImapThreadNode(null);
                byId.Add(id, node);
                all.Add(node);
            }

            return node;
        }

        // (1) Link messages by their references.
        foreach (var message in messages.OrderBy(m => m.Sequence))
        {
            ImapThreadNode node;

            // A message without a Message-ID, or with one an earlier message already has, gets a unique one.
            if (message.MessageId is { } id && (!byId.TryGetValue(id, out var existing) || existing.IsDummy))
            {
                node = Container(id);
                node.Message = message;
            }
            else
            {
                node = new ImapThreadNode(message);
                all.Add(node);
            }

            // (1A) Each reference is the parent of the next, unless it already has one or the link would make a loop.
            ImapThreadNode? previous = null;
            foreach (var reference in message.References)
            {
                var referenced = Container(reference);
                if (previous is not null && referenced.Parent is null && !referenced.Contains(previous))
                {
                    previous.Adopt(referenced);
                }

                previous = referenced;
            }

            // (1B) The last reference is this message's parent; a parent guessed from another message's References gives way.
            node.Detach();
            if (previous is not null && !node.Contains(previous))
            {
                previous.Adopt(node);
            }
        }

        // (2) Every node without a parent is a child of the root.
        var roots = all.Where(n => n.Parent is null).ToList();

        // (3) Prune dummies.
        roots = Prune(all, roots);

        // (4) Sort the root's children by sent date (a dummy sorts by its first child).
        foreach (var root in roots)
        {
            root.Children.Sort(CompareBySentDate);
        }

        roots.Sort(CompareBySentDate);

        // (5) Gather threads whose (base) subjects are the same.
        roots = MergeBySubject(roots);

        // (6) Sort every set of siblings by sent date. Dummies are now only at the top, and a dummy sorts by its first
        // child, so children are sorted before the top level.
        foreach (var node in all.Concat(roots))
        {
            node.Children.Sort(CompareBySentDate);
        }

        roots.Sort(CompareBySentDate);
        return roots;
    }

    /// <summary>
    /// Step 3 without recursion (a reference chain can be as deep as the mailbox is long): a dummy below the top gives
    /// its children to its parent, in its place; a dummy at the top is dropped when empty and replaced by its only child.
    /// </summary>
    private static List<ImapThreadNode> Prune(List<ImapThreadNode> all, List<ImapThreadNode> roots)
    {
        foreach (var node in all)
        {
            if (!node.IsDummy || node.Parent is not { } parent)
            {
                continue;
            }

            var index = parent.Children.IndexOf(node);
            parent.Children.RemoveAt(index);
            foreach (var child in node.Children)
            {
                child.Parent = parent;
            }

            parent.Children.InsertRange(index, node.Children);
            node.Children.Clear();
            node.Parent = null;
        }

        var kept = new List<ImapThreadNode>(roots.Count);
        foreach (var root in roots)
        {
            if (!root.IsDummy || root.Children.Count > 1)
            {
                kept.Add(root);
            }
            else if (root.Children.Count == 1)
            {
                var child = root.Children[0];
                child.Parent = null;
                root.Children.Clear();
                kept.Add(child);
            }
        }

        return kept;
    }

    private static List<ImapThreadNode> MergeBySubject(List<ImapThreadNode> roots)
    {
        // (5B) One thread per subject: a dummy wins over a message, a message over a reply or forward.
        var table = new Dictionary<string, ImapThreadNode>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            var subject = ThreadSubject(root);
            if (subject.Length == 0)
            {
                continue;
            }

            if (!table.TryGetValue(subject, out var held) ||
                (root.IsDummy && !held.IsDummy) ||
                (!held.IsDummy && held.Message!.IsReplyOrForward && !root.IsDummy && !root.Message!.IsReplyOrForward))
            {
                table[subject] = root;
            }
        }

        // (5C) Merge every other thread of the same subject into the one in the table.
        var replaced = new Dictionary<ImapThreadNode, ImapThreadNode>();
        var dissolved = new HashSet<ImapThreadNode>();
        foreach (var root in roots)
        {
            // A thread already moved under another (a held one under a new dummy) is merged once only.
            var subject = ThreadSubject(root);
            if (root.Parent is not null || subject.Length == 0 || !table.TryGetValue(subject, out var held) || ReferenceEquals(held, root))
            {
                continue;
            }

            if (root.IsDummy && held.IsDummy)
            {
                foreach (var child in root.Children.ToList())
                {
                    held.Adopt(child);
                }

                root.Children.Clear();
                dissolved.Add(root);
            }
            else if (held.IsDummy || (root.Message!.IsReplyOrForward && !held.Message!.IsReplyOrForward))
            {
                held.Adopt(root);
            }
            else
            {
                // Two threads of equal standing become siblings under a new dummy, which takes the held one's place.
                var dummy = new ImapThreadNode(null);
                replaced[held] = dummy;
                dummy.Adopt(held);
                dummy.Adopt(root);
                table[subject] = dummy;
            }
        }

        return [.. roots.Select(r => replaced.TryGetValue(r, out var dummy) ? dummy : r).Where(r => r.Parent is null && !dissolved.Contains(r))];
    }

    /// <summary>The subject of a thread: its message's, or for a dummy its first child's.</summary>
    private static string ThreadSubject(ImapThreadNode node) => node.IsDummy
        ? node.Children.Count > 0 && node.Children[0].Message is { } first ? first.SubjectKey : string.Empty
        : node.Message!.SubjectKey;

    private static int CompareBySentDate(ImapThreadNode a, ImapThreadNode b)
    {
        var (dateA, sequenceA) = SortDate(a);
        var (dateB, sequenceB) = SortDate(b);
        var byDate = dateA.CompareTo(dateB);
        return byDate != 0 ? byDate : sequenceA.CompareTo(sequenceB);
    }

    private static (DateTimeOffset Date, int Sequence) SortDate(ImapThreadNode node)
    {
        while (node.IsDummy && node.Children.Count > 0)
        {
            node = node.Children[0];
        }

        return node.Message is { } message ? (message.SentDate, message.Sequence) : (DateTimeOffset.MaxValue, int.MaxValue);
    }

    /// <summary>
    /// The THREAD reply (RFC 5256 §4): <c>thread-list = "(" (thread-members / thread-nested) ")"</c>, where a message with
    /// one child continues the list ("1 2") and one with several children nests each ("1 (2)(3)").
    /// </summary>
    public static void Write(ImapResponseWriter writer, IReadOnlyList<ImapThreadNode> threads)
    {
        writer.BeginUntagged().Atom("THREAD");
        var first = true;
        foreach (var thread in threads)
        {
            if (!first)
            {
                writer.Adjoin();
            }

            writer.BeginList();
            WriteMembers(writer, thread);
            writer.EndList();
            first = false;
        }

        writer.EndLine();
    }

    /// <summary>One thread's members, with an explicit stack: a thread can be as deep as the mailbox is long.</summary>
    private static void WriteMembers(ImapResponseWriter writer, ImapThreadNode node)
    {
        var open = new Stack<(List<ImapThreadNode> Siblings, int Next)>();
        var current = node;
        while (true)
        {
            // A chain of single children is written flat: "1 2 3".
            while (current.Message is { } message)
            {
                writer.Number(message.Number);
                if (current.Children.Count != 1)
                {
                    break;
                }

                current = current.Children[0];
            }

            if (current.Children.Count > 0)
            {
                writer.BeginList();
                open.Push((current.Children, 1));
                current = current.Children[0];
                continue;
            }

            // A leaf: close lists until one has a sibling left to write.
            while (true)
            {
                if (open.Count == 0)
                {
                    return;
                }

                var (siblings, next) = open.Pop();
                writer.EndList();
                if (next < siblings.Count)
                {
                    writer.Adjoin().BeginList();
                    open.Push((siblings, next + 1));
                    current = siblings[next];
                    break;
                }
            }
        }
    }
}
