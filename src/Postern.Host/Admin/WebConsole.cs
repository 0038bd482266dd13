namespace Postern.Host.Admin;

/// <summary>The System Manager web console: static pages that talk only to the admin API.</summary>
internal static class WebConsole
{
    public static void Map(WebApplication app)
    {
        var assembly = typeof(WebConsole).Assembly;
        app.MapGet("/", () => Page(assembly, "index.html", "text/html; charset=utf-8"));
        app.MapGet("/console.js", () => Page(assembly, "console.js", "text/javascript; charset=utf-8"));

        // Browsers ask for it on their own; no icon, and no 404 in the console's error list either.
        app.MapGet("/favicon.ico", () => Results.NoContent());
    }

    private static IResult Page(System.Reflection.Assembly assembly, string name, string contentType)
    {
        var stream = assembly.GetManifestResourceStream("Postern.Host.Console." + name);
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }
}
