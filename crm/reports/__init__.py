"""The manager's dashboard: figures, charts, drill-downs and exports."""
