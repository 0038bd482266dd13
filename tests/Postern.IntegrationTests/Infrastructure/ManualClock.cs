namespace Postern.IntegrationTests.Infrastructure;

/// <summary>A clock a test moves by hand: retry delays, lock ages and back-offs without waiting for them.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
