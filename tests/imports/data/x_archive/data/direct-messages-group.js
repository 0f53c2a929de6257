window.YTD.direct_messages_group.part0 = [
  {
    "dmConversation": {
      "conversationId": "1790000000000000000",
      "messages": [
        {
          "conversationNameUpdate": {
            "initiatingUserId": "1462553211098765312",
            "name": "Shoot crew",
            "createdAt": "2024-06-01T10:05:00.000Z"
          }
        },
        {
          "participantsLeave": {
            "userIds": [
              "4455667788"
            ],
            "createdAt": "2024-06-01T10:04:00.000Z"
          }
        },
        {
          "messageCreate": {
            "reactions": [],
            "urls": [],
            "text": "Hi crew 👋",
            "mediaUrls": [],
            "senderId": "3344556677",
            "id": "1790000000000000300",
            "createdAt": "2024-06-01T10:03:00.000Z",
            "editHistory": []
          }
        },
        {
          "messageCreate": {
            "reactions": [],
            "urls": [],
            "text": "Welcome!",
            "mediaUrls": [],
            "senderId": "1462553211098765312",
            "id": "1790000000000000200",
            "createdAt": "2024-06-01T10:02:00.000Z",
            "editHistory": []
          }
        },
        {
          "participantsJoin": {
            "initiatingUserId": "1462553211098765312",
            "userIds": [
              "3344556677",
              "4455667788"
            ],
            "createdAt": "2024-06-01T10:01:00.000Z"
          }
        },
        {
          "joinConversation": {
            "initiatingUserId": "1462553211098765312",
            "participantsSnapshot": [
              "1462553211098765312"
            ],
            "createdAt": "2024-06-01T10:00:00.000Z"
          }
        }
      ]
    }
  }
]