(function(a){var H=window.HB=window.HB||{};H.load?H.load(a):(H.q=H.q||[]).push(a)})(["l","l/5f969ec0e8","?IQS%,--"]);
