using System.Text.Json.Serialization.Metadata;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace TypedJobs.Cli.Infrastructure;

/// <summary>How read commands print: a table for people, or JSON for scripts.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>
/// Everything a command writes goes through here: tables and live displays on the Spectre console, JSON documents,
/// plain lines and the one-line errors on standard error. Colours and cursor movement only on a terminal without
/// <c>NO_COLOR</c>.
/// </summary>
internal sealed class CliOutput
{
    public CliOutput(CliEnvironment environment, OutputFormat format)
    {
        Environment = environment;
        Format = format;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = environment.OutputIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = environment.Color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = environment.OutputIsTerminal ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(environment.Out),
        });

        // Redirected output is read by scripts and people's pagers: never wrap a table at an arbitrary 80 columns.
        Console.Profile.Width = environment.Width ?? (environment.OutputIsTerminal ? Console.Profile.Width : 400);
        if (!environment.Color)
        {
            Console.Profile.Capabilities.ColorSystem = ColorSystem.NoColors;
        }
    }

    public CliEnvironment Environment { get; }

    public OutputFormat Format { get; }

    public bool Json => Format == OutputFormat.Json;

    public IAnsiConsole Console { get; }

    /// <summary>Table borders: rounded on a terminal, plain ASCII when redirected (grep- and pager-friendly).</summary>
    public TableBorder Border => Environment.OutputIsTerminal ? TableBorder.Rounded : TableBorder.Ascii;

    public void Write(IRenderable renderable) => Console.Write(renderable);

    public void Line(string text = "") => Console.Write(new Text(text + "\n"));

    /// <summary>A line in a colour (plain text when colours are off).</summary>
    public void Line(string text, Color color) => Console.Write(new Text(text + "\n", new Style(foreground: color)));

    public void WriteJson<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        Environment.Out.Write(System.Text.Json.JsonSerializer.Serialize(value, typeInfo));
        Environment.Out.Write('\n');
        Environment.Out.Flush();
    }

    public Table NewTable(params string[] columns)
    {
        var table = new Table().Border(Border);
        foreach (var column in columns)
        {
            var right = column.StartsWith('>');
            var name = right ? column[1..] : column;
            var tableColumn = new TableColumn(new Text(name, new Style(decoration: Decoration.Bold)));
            table.AddColumn(right ? tableColumn.RightAligned() : tableColumn);
        }

        return table;
    }

    /// <summary>Adds a row of plain text cells (user data is never read as markup).</summary>
    public static void AddRow(Table table, params string?[] cells) =>
        table.AddRow(cells.Select(static c => (IRenderable)new Text(c ?? "")).ToArray());

    /// <summary>Asks a yes/no question on the terminal; anything but y or yes is no.</summary>
    public bool Confirm(string question)
    {
        Console.Write(new Text(question + " [y/N] "));
        var answer = Environment.In.ReadLine()?.Trim();
        return string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) || string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase);
    }

    public void Error(string message)
    {
        var line = "error: " + OneLine(message);
        if (Environment.Color)
        {
            Environment.Error.Write("\u001b[31m" + line + "\u001b[0m\n");
        }
        else
        {
            Environment.Error.Write(line + "\n");
        }

        Environment.Error.Flush();
    }

    public void Warning(string message)
    {
        Environment.Error.Write("warning: " + OneLine(message) + "\n");
        Environment.Error.Flush();
    }

    public static string OneLine(string message) =>
        string.Join("; ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
