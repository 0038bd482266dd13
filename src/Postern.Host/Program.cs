namespace Postern.Host;

public static class Program
{
    public static Task<int> Main(string[] args) => PosternCommandLine.RunAsync(args);
}
