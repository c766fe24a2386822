-- Dagster's run/event storage lives in its own database beside the factory's.
create database dagster owner factory;
