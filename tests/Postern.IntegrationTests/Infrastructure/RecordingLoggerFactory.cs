using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Postern.IntegrationTests.Infrastructure;

/// <summary>Keeps the event id and text of every log entry, so a test can assert what the server reported.</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<(int EventId, string Text)> _entries = new();

    public IReadOnlyList<(int EventId, string Text)> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((eventId.Id, formatter(state, exception)));

    public void Dispose()
    {
    }
}
