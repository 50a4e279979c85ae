"""The central service: MQTT consumer, database writer, schema, indicators, API."""
