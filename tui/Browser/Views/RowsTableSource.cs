using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>A table over rows a view model holds, asked for cells only when drawn.</summary>
internal sealed class RowsTableSource(string[] columns, Func<int> count, Func<int, int, string?> cell) : ITableSource
{
    public string[] ColumnNames { get; } = columns;
    public int Columns => ColumnNames.Length;
    public int Rows => count();
    public object this[int row, int col] => cell(row, col) ?? "NULL";
}

/// <summary>How the browser's tables look: no grid lines, a header that stays, the last column filling the rest.</summary>
internal static class TableLook
{
    public static TableView Plain(ITableSource source)
    {
        var table = new TableView
        {
            X = 0, Y = 0, Width = Terminal.Gui.ViewBase.Dim.Fill(), Height = Terminal.Gui.ViewBase.Dim.Fill(),
            FullRowSelect = true, CollectionNavigator = null, Table = source,
        };
        table.Style.ShowHorizontalHeaderOverline = false;
        table.Style.ShowHorizontalHeaderUnderline = false;
        table.Style.ShowVerticalHeaderLines = false;
        table.Style.ShowVerticalCellLines = false;
        table.Style.ShowHorizontalBottomLine = false;
        table.Style.AlwaysShowHeaders = true;
        table.Style.ExpandLastColumn = true;
        return table;
    }

    public static void Column(TableView table, int column, int min, int max, bool right = false)
    {
        var style = table.Style.GetOrCreateColumnStyle(column);
        style.MinWidth = min;
        style.MaxWidth = max;
        if (right) style.Alignment = Terminal.Gui.ViewBase.Alignment.End;
    }

    /// <summary>The selected row, or -1.</summary>
    public static int Row(TableView table) => table.Value?.SelectedCell.Y ?? -1;

    /// <summary>Tells the table its rows changed (count or content).</summary>
    public static void Changed(TableView table)
    {
        var source = table.Table;
        table.Table = source; // re-reads the row count and clamps the selection
        table.Update();
    }
}
