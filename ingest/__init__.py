"""The central write path: the MQTT consumer, the writer (history, latest values, alarms,
dead letters) and the database schema with its migrations."""
