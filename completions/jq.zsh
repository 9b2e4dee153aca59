#compdef jq

_jq_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _JQ_COMPLETE=complete_zsh jq)
}

compdef _jq_completion jq
