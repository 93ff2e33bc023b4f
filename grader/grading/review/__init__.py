"""Review of a wrong answer: credit for errors carried forward, and the mistakes it names."""
