window.YTD.account.part0 = [
  {
    "account": {
      "email": "alex@example.com",
      "createdVia": "web",
      "username": "alexrivera_photo",
      "accountId": "1462553211098765312",
      "createdAt": "2021-11-21T10:04:33.000Z",
      "accountDisplayName": "Alex Rivera"
    }
  }
]