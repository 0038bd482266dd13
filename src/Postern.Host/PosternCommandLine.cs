namespace Postern.Host;

internal static class PosternCommandLine
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(args.Length == 0 ? 1 : 0);
}
