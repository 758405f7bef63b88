"""LangGraph wiring: state, context and graph builders."""
